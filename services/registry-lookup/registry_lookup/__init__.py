"""Company search and details from the Norwegian, Swedish, Danish and UK registries."""
