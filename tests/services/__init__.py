"""Real PostgreSQL and OpenSSH servers that tests start on 127.0.0.1 and throw away."""
