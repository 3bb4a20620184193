from credit_monitor import standin

_probe = standin.State({}, 3600)


def known_numbers(country: str, n: int, start: int | None = None) -> list[str]:
    """Registration numbers the stand-in knows (it 'does not know' about one in fifteen)."""
    width = {"NO": 9, "SE": 10, "DK": 8, "GB": 8}[country]
    number = start or {"NO": 910000001, "SE": 5560000001, "DK": 30000001, "GB": 10000001}[country]
    out = []
    while len(out) < n:
        reg = str(number).zfill(width)
        if _probe.company(country, reg) is not None:
            out.append(reg)
        number += 1
    return out


def unknown_number(country: str = "NO") -> str:
    return {"NO": "910000000", "SE": "5560000000", "DK": "30000000", "GB": "10000000"}[country]
