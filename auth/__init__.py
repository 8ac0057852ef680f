"""Authentication and authorisation: passwords, JWT, role decorators, OTP."""
