"""The schema against botocore's service model, the source of truth for names, types and
lengths. A member AWS adds, or a maximum AWS raises, fails here until the schema follows."""

from __future__ import annotations

import botocore
import botocore.session
import pytest
from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.types import TypeDecorator

from scanner.store.schema import (
    Endpoint,
    EndpointConfig,
    EndpointConfigVariant,
    EndpointVariant,
    Model,
    ModelCard,
    ModelContainer,
    ModelPackage,
    ModelPackageContainer,
    ModelPackageGroup,
    ModelPackageGroupTag,
    ModelPackageMetricSource,
    ModelPackageTag,
    ModelPackageValidationStatus,
)
from scanner.transform import column_for

MODEL = botocore.session.get_session().get_service_model("sagemaker")
BOTOCORE = f"botocore {botocore.__version__}"

# (botocore shape, the table that stores its members one column each)
SHAPES = [
    ("DescribeModelPackageOutput", ModelPackage),
    ("ModelPackageContainerDefinition", ModelPackageContainer),
    ("ModelPackageStatusItem", ModelPackageValidationStatus),
    ("MetricsSource", ModelPackageMetricSource),
    ("FileSource", ModelPackageMetricSource),
    ("DescribeModelPackageGroupOutput", ModelPackageGroup),
    ("ModelPackageGroupSummary", ModelPackageGroup),
    ("Tag", ModelPackageTag),
    ("Tag", ModelPackageGroupTag),
    ("DescribeModelOutput", Model),
    ("ContainerDefinition", ModelContainer),
    ("DescribeEndpointConfigOutput", EndpointConfig),
    ("ProductionVariant", EndpointConfigVariant),
    ("DescribeEndpointOutput", Endpoint),
    ("ProductionVariantSummary", EndpointVariant),
    ("DescribeModelCardResponse", ModelCard),
    ("ModelCard", ModelCard),  # Search's record: what a card documents, its risk rating
]
SHAPES_BY_TABLE = {table.__tablename__: table for _, table in SHAPES}


def _check(member: str, shape, column, where: str) -> None:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # schema.UtcDateTime: judged by what it stores
        kind = kind.impl_instance
    if shape.type_name in ("structure", "list", "map"):
        assert isinstance(kind, JSON), f"{where}: a {shape.type_name} is stored as JSON"
    elif shape.type_name == "boolean":
        assert kind.python_type is bool, f"{where}: a boolean"
    elif shape.type_name == "timestamp":
        assert isinstance(kind, DateTime) and kind.timezone, f"{where}: a timestamp with zone"
    elif shape.type_name in ("float", "double"):
        assert kind.python_type is float, f"{where}: a floating-point number"
    elif shape.type_name in ("integer", "long"):
        assert isinstance(kind, Integer), f"{where}: an integer"
    elif shape.type_name == "string":
        maximum = shape.metadata.get("max")
        if isinstance(kind, Text) or kind.length is None:
            return  # unbounded holds anything AWS sends
        assert isinstance(kind, String)
        assert maximum is not None, f"{where}: AWS sets no maximum, so the column must be Text"
        assert kind.length >= maximum, (
            f"{where}: column holds {kind.length} characters, AWS allows {maximum}"
        )
    else:
        pytest.fail(f"{where}: no rule for botocore type {shape.type_name}")


@pytest.mark.parametrize(("shape_name", "table"), SHAPES, ids=lambda v: getattr(v, "__name__", v))
def test_every_member_has_a_column_that_holds_it(shape_name, table):
    columns = table.__table__.columns
    for member, shape in MODEL.shape_for(shape_name).members.items():
        name = column_for(member)
        where = f"{shape_name}.{member} -> {table.__tablename__}.{name} ({BOTOCORE})"
        assert name in columns, f"{where}: no column"
        _check(member, shape, columns[name], where)


def test_lifted_out_members_fit_their_columns():
    kms = MODEL.shape_for("ModelPackageSecurityConfig").members["KmsKeyId"]
    column = ModelPackage.__table__.columns["kms_key_id"]
    _check("KmsKeyId", kms, column, f"SecurityConfig.KmsKeyId -> kms_key_id ({BOTOCORE})")


def test_no_aws_string_column_is_narrower_than_aws_allows():
    """Every bounded string column of an inventory table is one botocore bounds as much."""
    bounded = {
        (table.__tablename__, column.name)
        for _, table in SHAPES
        for column in table.__table__.columns
        if isinstance(column.type, String) and not isinstance(column.type, Text)
    }
    checked = {
        (table.__tablename__, column_for(member))
        for shape_name, table in SHAPES
        for member in MODEL.shape_for(shape_name).members
    }
    ours = {  # values mpscan itself writes, never AWS
        "account_id",
        "owner_account_id",
        "region",
        "model_package_type",
        "client_token",
        "specification",
        "kind",
        "section",
        "resource_policy_status",
        "kms_key_id",  # checked above
        "content_hash",
        "record_source",
        "place",
        "variant_kind",
    }
    for table_name, name in bounded - checked:
        column = SHAPES_BY_TABLE[table_name].__table__.columns[name]
        for fk in column.foreign_keys:  # a child's key: as wide as the parent's
            assert column.type.length == fk.column.type.length, f"{table_name}.{name}"
            checked.add((table_name, name))
    unchecked = {(t, c) for t, c in bounded - checked if c not in ours}
    assert not unchecked, f"bounded columns with no botocore maximum to compare: {unchecked}"


def test_search_records_carry_what_describe_answers_but_the_declared_members():
    """Search-mode rows are as complete as describe-mode ones only while botocore's Search
    record shapes carry every member of the describe outputs: a member botocore adds to one
    shape and not the other is named here, to be declared (scanner.kinds search_lacks) or
    read another way."""
    from scanner import kinds

    pairs = {
        kinds.MODEL_PACKAGE: ("DescribeModelPackage", "ModelPackage", "ModelPackageSummary"),
        kinds.MODEL_PACKAGE_GROUP: (
            "DescribeModelPackageGroup",
            "ModelPackageGroup",
            "ModelPackageGroupSummary",
        ),
    }
    for kind, (operation, record, summary) in pairs.items():
        described = set(MODEL.operation_model(operation).output_shape.members)
        searched = set(MODEL.shape_for(record).members)
        listed = set(MODEL.shape_for(summary).members)
        assert kind.search == record
        assert searched - described == {"Tags"}, f"{record} has members describe lacks"
        lacking = described - searched
        if kind is kinds.MODEL_PACKAGE:  # a package's row is its record alone
            assert lacking == set(kind.search_lacks), f"{record} lacks {lacking}"
        else:  # a group's row holds its listing summary too
            assert lacking - listed == set(kind.search_lacks), f"{record} lacks {lacking}"
        assert set(kind.search_lacks) <= described


def test_serving_search_records_carry_what_describe_answers_but_the_declared_members():
    """What is in production: a Search record (a Model's is its ModelDashboardModel's
    `Model`) carries every member of the describe answer but the kind's `search_lacks`; the
    members only the record has (Tags aside) are dropped, as describe mode never sees them."""
    from scanner import kinds

    dashboard = MODEL.shape_for("SearchRecord").members["Model"]
    assert dashboard.members["Model"].name == "Model"
    pairs = {
        kinds.MODEL: ("DescribeModel", "Model"),
        kinds.ENDPOINT: ("DescribeEndpoint", "Endpoint"),
        kinds.MODEL_CARD: ("DescribeModelCard", "ModelCard"),
    }
    for kind, (operation, record) in pairs.items():
        described = set(MODEL.operation_model(operation).output_shape.members)
        searched = set(MODEL.shape_for(record).members)
        assert kind.search == MODEL.shape_for("SearchRecord").members[kind.search].name or (
            kind is kinds.MODEL
        )
        assert described - searched == set(kind.search_lacks), f"{record} lacks more"
