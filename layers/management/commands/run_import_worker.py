"""The former name of `run_worker` (kept for units and scripts written before the task queue moved to procrastinate)."""
from layers.management.commands.run_worker import Command as RunWorker


class Command(RunWorker):
    help = "Former name of run_worker: " + RunWorker.help
