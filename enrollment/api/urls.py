from rest_framework.routers import SimpleRouter

from .views import EnrollmentViewSet, HouseholdViewSet, PersonIdentityViewSet, PersonViewSet

router = SimpleRouter(trailing_slash=True)
router.register("households", HouseholdViewSet, basename="household")
router.register("persons", PersonViewSet, basename="person")
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
router.register("identities", PersonIdentityViewSet, basename="identity")

urlpatterns = router.urls
