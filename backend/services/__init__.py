"""Operations shared by the command line, the console and the daemon."""
