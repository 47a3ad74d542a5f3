from tests.directory.conftest import directory  # noqa: F401  (fixture)
from tests.inspections.conftest import inspected  # noqa: F401  (fixture)
from tests.planning.conftest import plan  # noqa: F401  (fixture)
