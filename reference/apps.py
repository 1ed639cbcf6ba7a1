from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    """The bundled reference ops pipeline: stage handlers, assets, inventory and demo data.

    A plug-in: the pipeline reaches its stages only through ``OPS_STAGE_HANDLERS``
    dotted paths, and no other app imports it. It has no models.
    """

    name = "reference"
    verbose_name = "Reference ops pipeline"
