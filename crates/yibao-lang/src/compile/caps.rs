//! A layer's caps: per claim, per month, per year in a pool (several year caps, one per pool,
//! each figure named by its pool). A care layer's caps are lowered in `care.rs`.

use super::*;

impl Compiler<'_> {
    pub(super) fn caps(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        restrict: &Restrict,
        pools: &mut Vec<String>,
    ) -> Vec<ir::Cap> {
        // Caps. A layer with several year caps (one per pool) names each figure by its pool.
        let mut caps = vec![];
        let year_caps = l
            .clauses
            .iter()
            .filter(|c| {
                matches!(
                    c.node,
                    Clause::Cap {
                        per: CapPerDecl::Year { .. },
                        ..
                    }
                )
            })
            .count();
        for c in &l.clauses {
            if let Clause::Cap { per, prov } = &c.node {
                if care::is_care_layer(l) {
                    continue; // lowered by `care_rule`
                }
                match per {
                    CapPerDecl::Year { value, pool } => {
                        let pool_name = pool
                            .as_ref()
                            .map(|p| p.node.clone())
                            .unwrap_or_else(|| lid.to_string());
                        let idx = match pools.iter().position(|p| *p == pool_name) {
                            Some(i) => i,
                            None => {
                                pools.push(pool_name.clone());
                                pools.len() - 1
                            }
                        };
                        let path = if year_caps > 1 {
                            format!("{lid}.cap_year.{pool_name}")
                        } else {
                            format!("{lid}.cap_year")
                        };
                        if let Some(v) = self.lower_value(
                            value,
                            &path,
                            prov.as_ref(),
                            Ty::Money,
                            restrict,
                            NameScope { current: None },
                        ) {
                            caps.push(ir::Cap {
                                per: ir::CapPer::Year {
                                    pool: u32::try_from(idx).unwrap_or(u32::MAX),
                                },
                                value: v,
                                cite: self.cite(c.span),
                            });
                        }
                    }
                    CapPerDecl::Claim { value } | CapPerDecl::Month { value, .. } => {
                        let (path, per) = match per {
                            CapPerDecl::Month { .. } => ("cap_month", ir::CapPer::Month),
                            _ => ("cap_claim", ir::CapPer::Claim),
                        };
                        if let Some(v) = self.lower_value(
                            value,
                            &format!("{lid}.{path}"),
                            prov.as_ref(),
                            Ty::Money,
                            restrict,
                            NameScope { current: None },
                        ) {
                            caps.push(ir::Cap {
                                per,
                                value: v,
                                cite: self.cite(c.span),
                            });
                        }
                    }
                }
            }
        }
        caps
    }
}
