"""Tax-office payment-file import (缴费/入库明细): readers, matching, services, pages, API, task."""
