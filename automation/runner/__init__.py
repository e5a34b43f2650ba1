"""The runner: jobs in the database, wake-ups on Huey, workers, reaper, licence seats.

Entry points: :class:`automation.runner.worker.Worker`, :func:`automation.runner.service.serve`,
:func:`automation.runner.reaper.reap_once`, :func:`automation.runner.service.drain`.
"""
