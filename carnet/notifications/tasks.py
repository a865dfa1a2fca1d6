from django_tasks import task

from .delivery import deliver


@task()
def deliver_messages(message_ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message_id in message_ids:
        outcome = deliver(message_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
