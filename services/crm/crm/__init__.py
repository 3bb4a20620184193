"""The CRM core service: tenants, users, departments and companies."""
