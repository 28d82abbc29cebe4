"""salesbot: a Slack bot that runs a sales team's targets, pipeline, tasks and KPIs."""

from pathlib import Path

__version__ = "0.1.0"

# templates/ and migrations/ sit beside the bot package, both in a checkout and when installed.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
