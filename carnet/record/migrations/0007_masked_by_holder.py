from django.db import migrations, models


def masks_so_far_are_the_holders(apps, schema_editor):
    """Who set a mask before this column is not known: every existing mask is taken as the holder's, so an
    author's update cannot lift one the holder may have chosen (the private side of the doubt)."""
    Document = apps.get_model("record", "Document")
    Document.objects.filter(masked_to_professionals=True).update(masked_by_holder=True)


class Migration(migrations.Migration):

    dependencies = [
        ("record", "0006_xds_folder"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="masked_by_holder",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(masks_so_far_are_the_holders, migrations.RunPython.noop),
    ]
