from ninja import NinjaAPI

api = NinjaAPI(title="Carnet — API patient", version="1", urls_namespace="api")
