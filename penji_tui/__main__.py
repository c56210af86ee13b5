from penji_tui.cli import main

raise SystemExit(main())
