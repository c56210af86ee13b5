"""School-wide SAML single sign-on: SP keys, metadata, test logins and share links."""
