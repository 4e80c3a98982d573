from typing import Any, Dict, List, Mapping, Optional, Union

import pyarrow as pa

from . import spark as spark

class Error(Exception):
    kind: str
    path: Optional[str]
    message: str
    row: Optional[int]
    code: Optional[str]
    details: Dict[str, Any]
    def __init__(self, kind: str, path: Optional[str], message: str, row: Optional[int] = ...,
                 code: Optional[str] = ..., details: Optional[Dict[str, Any]] = ...) -> None: ...

def estimate_json(request: str, policies: Optional[Mapping[str, str]] = ...) -> str: ...
def estimate(request: Union[Mapping[str, Any], str],
             policies: Optional[Mapping[str, str]] = ...) -> Dict[str, Any]: ...
def policies() -> List[Dict[str, Any]]: ...
def check(text: str, name: str = ...) -> Dict[str, Any]: ...
def schema() -> pa.Schema: ...
def settle_table(table: Union[pa.Table, pa.RecordBatch], policy: Optional[str] = ...,
                 overrides: Optional[Mapping[str, str]] = ..., *, sort: bool = ...,
                 threads: Optional[int] = ...) -> pa.Table: ...
