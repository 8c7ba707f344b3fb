from redqueen.trainers.llm_selfplay.cli import main

raise SystemExit(main())
