"""factory_boy factories for the test suite."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from governance.models import Department, User
from inventory.models import Source


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n}")
    name = factory.LazyAttribute(lambda d: f"Department {d.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    department = factory.SubFactory(DepartmentFactory)
    password = factory.PostGenerationMethodCall("set_password", "test-password")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs) -> None:
        if extracted:
            group = Group.objects.filter(name=extracted).first()
            if group is None:
                # A transactional test flushed the tables, data-migration rows included.
                from django.apps import apps

                from governance.roles import sync_roles

                sync_roles(apps)
                group = Group.objects.get(name=extracted)
            self.groups.add(group)
        if create:
            self.save()


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"source-{n}")
    root = factory.Sequence(lambda n: f"/nonexistent/source-{n}")
    department = factory.SubFactory(DepartmentFactory)
