"""Background jobs: outcome resolution, learning cycles and the schedule that starts them.

The same job functions (``workers.jobs``) run in arq workers (``edgeloop worker``, Redis) or, with
no ``EDGELOOP_REDIS_URL``, in-process in the API (``workers.embedded``). The API attaches its
``ctx.jobs`` through ``workers.queue.open_job_queue``.
"""
