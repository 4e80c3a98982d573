//! The native part of the `yibao` Python package: a thin layer over the `yibao` facade (the
//! functions the CLI, the server and the wasm module call) and the batch engine of `yibao batch`
//! — no rule logic here. Tables cross through the Arrow C stream interface (zero-copy); errors cross as one exception,
//! `NativeError(json)`, which the Python package turns into `yibao.Error`. Every call catches
//! panics, so none crosses into Python.
//!
//! Without the `python` feature the crate is empty (the workspace builds without Python).

// As in the CLI: the batch engine allocates claims on the reader thread and frees them on the
// workers, which mimalloc handles far better than the system allocator. Only Rust's own
// allocations go through it; Python objects keep Python's allocator, and Arrow buffers handed to
// pyarrow are freed through their release callbacks, i.e. back here.
#[cfg(feature = "python")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "python")]
mod native {
    use std::collections::BTreeMap;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::OnceLock;

    use arrow_array::RecordBatchReader;
    use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table};
    use pyo3::create_exception;
    use pyo3::exceptions::PyException;
    use pyo3::prelude::*;
    use pyo3::types::PyBytes;
    use yibao::Registry;
    use yibao_batch::arrow::{ArrowRows, Collect, IpcSink};
    use yibao_batch::{BatchError, Options, Target};

    create_exception!(
        _native,
        NativeError,
        PyException,
        "A yibao failure; its one argument is JSON {kind, path, message, row, code}."
    );

    fn bundled() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(Registry::bundled)
    }

    fn error(kind: &str, path: Option<&str>, message: &str, row: Option<u64>) -> PyErr {
        let v = serde_json::json!({
            "kind": kind,
            "path": path,
            "message": message,
            "row": row,
        });
        NativeError::new_err(v.to_string())
    }

    fn api_error(e: &yibao::ApiError) -> PyErr {
        let mut v = serde_json::to_value(e).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("row".into(), serde_json::Value::Null);
        }
        NativeError::new_err(v.to_string())
    }

    fn batch_error(e: &BatchError) -> PyErr {
        match e {
            BatchError::Row(r) => error("row", r.field.as_deref(), &r.message, Some(r.line)),
            BatchError::Column { column, message } => error("column", Some(column), message, None),
            BatchError::Order(m) => error("order", None, m, None),
            BatchError::Input(m) => error("input", None, m, None),
            BatchError::Request(m) => error("request", None, m, None),
            BatchError::Output(_) | BatchError::Temp(_) => {
                error("internal", None, &e.to_string(), None)
            }
        }
    }

    /// Runs `f`, turning a panic into `yibao.Error(kind="internal")`.
    fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(p) => {
                let what = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(error(
                    "internal",
                    None,
                    &format!("internal error (please report it): {what}"),
                    None,
                ))
            }
        }
    }

    /// `estimate` from JSON text to the canonical JSON text the CLI prints; `policies`: extra
    /// policy files (name, text) loaded over the bundled ones, as the CLI's `--policies`.
    #[pyfunction]
    #[pyo3(signature = (request, policies=None))]
    fn estimate_json(
        py: Python<'_>,
        request: &str,
        policies: Option<Vec<(String, String)>>,
    ) -> PyResult<String> {
        let request = request.to_string();
        py.detach(move || {
            guarded(move || {
                let answer = match policies {
                    None => yibao::estimate_json(bundled(), &request),
                    Some(files) => {
                        let reg = yibao::with_drafts(files);
                        if reg.has_errors() {
                            let msg: Vec<String> = reg
                                .diagnostics
                                .iter()
                                .filter(|(_, ds)| ds.iter().any(|d| d.is_error()))
                                .map(|(f, _)| f.clone())
                                .collect();
                            return Err(error(
                                "policy",
                                None,
                                &format!("policy files with errors: {}", msg.join(", ")),
                                None,
                            ));
                        }
                        yibao::estimate_json(&reg, &request)
                    }
                };
                answer.map_err(|e| api_error(&e))
            })
        })
    }

    /// The requests of a vector file's vectors, as JSON `[{id, request}]` (for the tests that
    /// compare this package with the CLI on every vector).
    #[pyfunction]
    fn vector_requests(text: &str) -> PyResult<String> {
        guarded(|| {
            let vs = yibao::vectors::parse_vectors(text)
                .map_err(|e| error("request", None, &e, None))?;
            let mut out = Vec::new();
            for v in &vs {
                let request =
                    yibao::to_json(&yibao::vectors::request_of(v)).map_err(|e| api_error(&e))?;
                out.push(serde_json::json!({"id": v.id, "request": request}));
            }
            Ok(serde_json::Value::Array(out).to_string())
        })
    }

    /// Every bundled policy version, as JSON.
    #[pyfunction]
    fn policies_json() -> PyResult<String> {
        guarded(|| yibao::to_json(&yibao::list_versions(bundled())).map_err(|e| api_error(&e)))
    }

    /// `check` of a policy text, as JSON.
    #[pyfunction]
    fn check_json(name: &str, text: &str) -> PyResult<String> {
        guarded(|| yibao::to_json(&yibao::check_json(name, text)).map_err(|e| api_error(&e)))
    }

    /// The result table's schema, as an empty Arrow IPC stream (with one column per layer id).
    #[pyfunction]
    fn schema_ipc(py: Python<'_>) -> PyResult<Py<PyBytes>> {
        let bytes = guarded(|| {
            let opts = Options {
                layer_columns: true,
                ..Options::default()
            };
            let schema = yibao_batch::output_schema(bundled(), &opts);
            IpcSink::stream(Vec::new(), &schema)
                .and_then(IpcSink::finish)
                .map_err(|e| batch_error(&e))
        })?;
        Ok(PyBytes::new(py, &bytes).unbind())
    }

    /// Settles the claims of any Arrow stream (an object with `__arrow_c_stream__`: a pyarrow
    /// Table, RecordBatchReader, …) with `yibao batch`'s engine; the results as a pyarrow Table.
    /// Both sides cross through the Arrow C stream interface, without copies or IPC bytes, and
    /// the input is read batch by batch as the workers settle it.
    #[pyfunction]
    #[pyo3(signature = (table, policy=None, overrides=None, sort=false, threads=None))]
    fn settle_stream<'py>(
        py: Python<'py>,
        table: &Bound<'py, PyAny>,
        policy: Option<String>,
        overrides: Option<BTreeMap<String, String>>,
        sort: bool,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let reader = arrow_array::ffi_stream::ArrowArrayStreamReader::from_pyarrow_bound(table)?;
        let (batches, schema) = py.detach(move || {
            guarded(move || {
                let opts = Options {
                    policy,
                    overrides: overrides.unwrap_or_default(),
                    sort,
                    threads: threads.unwrap_or_else(|| Options::default().threads),
                    layer_columns: true,
                    ..Options::default()
                };
                let reg = bundled();
                let input = reader.schema();
                let mut rows =
                    ArrowRows::new(&input, Box::new(reader)).map_err(|e| batch_error(&e))?;
                let mut sink = Collect::default();
                yibao_batch::run_to(
                    reg,
                    &mut rows,
                    Target::Arrow(&mut sink),
                    None,
                    &opts,
                    &|_| {},
                )
                .map_err(|e| batch_error(&e))?;
                Ok((sink.0, yibao_batch::output_schema(reg, &opts)))
            })
        })?;
        Table::try_new(batches, schema)
            .map_err(|e| error("internal", None, &e.to_string(), None))?
            .into_pyarrow(py)
    }

    /// A deliberate panic inside a guarded call, for the test that no panic crosses into Python.
    #[pyfunction]
    fn _panic_for_test() -> PyResult<()> {
        guarded(|| -> PyResult<()> {
            #[allow(clippy::panic, reason = "the test of the panic guard")]
            {
                panic!("a test panic")
            }
        })
    }

    #[pymodule]
    fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("NativeError", m.py().get_type::<NativeError>())?;
        m.add_function(wrap_pyfunction!(estimate_json, m)?)?;
        m.add_function(wrap_pyfunction!(policies_json, m)?)?;
        m.add_function(wrap_pyfunction!(vector_requests, m)?)?;
        m.add_function(wrap_pyfunction!(check_json, m)?)?;
        m.add_function(wrap_pyfunction!(schema_ipc, m)?)?;
        m.add_function(wrap_pyfunction!(settle_stream, m)?)?;
        m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
        Ok(())
    }
}
