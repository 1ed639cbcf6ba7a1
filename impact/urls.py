from django.urls import re_path

from impact import api

urlpatterns = [
    # The pattern AssetViewSet's router gives its detail routes: an id without "/" or ".", no trailing slash.
    re_path(r"^asset-registry/assets/(?P<pk>[^/.]+)/impact$", api.ImpactView.as_view(), name="asset-impact"),
]
