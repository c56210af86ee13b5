"""The nightly SFTP exchange of import and export files with each school's IT."""
