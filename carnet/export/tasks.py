from django_tasks import task


@task()
def build_export(export_id: int) -> str:
    """Produce one requested export (see actions.build)."""
    from .actions import build

    return build(export_id)
