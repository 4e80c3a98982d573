from typing import Any, Iterator, Mapping, Optional

import pyarrow as pa

def schema() -> Any: ...
def settle(batches: Iterator[pa.RecordBatch], policy: Optional[str] = ...,
           overrides: Optional[Mapping[str, str]] = ...) -> Iterator[pa.RecordBatch]: ...
def settle_dataframe(df: Any, policy: Optional[str] = ...,
                     overrides: Optional[Mapping[str, str]] = ...,
                     partitions: Optional[int] = ...) -> Any: ...
