//! The national vocabulary: dimension values a policy may name without labelling them.
//! Names follow `domain.md`; labels are Chinese first, then English.

use yibao_engine::ir::Dim;

/// `(id, 中文, English)` for each known value of `dim`.
pub fn known(dim: Dim) -> &'static [(&'static str, &'static str, &'static str)] {
    match dim {
        Dim::Care => &[
            ("general_outpatient", "普通门诊", "general outpatient"),
            (
                "outpatient_special",
                "门诊慢特病",
                "outpatient chronic and special diseases",
            ),
            ("inpatient", "住院", "inpatient"),
            ("day_surgery", "日间手术", "day surgery"),
            ("emergency_observation", "急诊留观", "emergency observation"),
            ("maternity", "生育", "maternity"),
            ("family_bed", "家庭病床", "family sickbed"),
        ],
        Dim::Category => &[
            ("destitute", "特困人员", "destitute (te kun)"),
            (
                "min_allowance",
                "低保对象",
                "minimum-living-allowance recipient",
            ),
            ("low_income", "低收入人口", "low-income person"),
            (
                "poverty_risk",
                "返贫致贫人口",
                "person at risk of (re)falling into poverty",
            ),
            (
                "illness_poverty",
                "因病致贫重病患者",
                "impoverished by serious illness",
            ),
            (
                "low_allowance_edge",
                "低保边缘家庭成员",
                "member of a family on the edge of the allowance",
            ),
            (
                "severe_disability",
                "重度残疾人",
                "person with severe disability",
            ),
            (
                "entitled_group",
                "优抚对象",
                "entitled group (veterans and families)",
            ),
            ("retired_cadre", "离休干部", "retired cadre (lixiu)"),
        ],
        Dim::Group => &[
            ("in_service", "在职职工", "employee in service"),
            ("retired", "退休人员", "retired employee"),
            (
                "retired_70",
                "70岁以上退休人员",
                "retired employee aged 70 or more",
            ),
            ("minor", "学生儿童", "students and children"),
            ("adult", "成年居民", "working-age resident"),
            ("elderly", "老年居民", "elderly resident"),
            ("insured", "参保人", "insured person"),
        ],
        Dim::Level => &[
            ("1", "一级及以下医疗机构", "level 1 and community"),
            ("2", "二级医疗机构", "level 2"),
            ("3", "三级医疗机构", "level 3"),
        ],
        Dim::Place => &[
            ("local", "本地就医", "local"),
            (
                "offsite_registered",
                "异地就医（已备案）",
                "out of city, registered",
            ),
            (
                "offsite_unregistered",
                "异地就医（未备案）",
                "out of city, not registered",
            ),
        ],
        Dim::Disease => &[
            ("hypertension", "高血压", "hypertension"),
            ("diabetes", "糖尿病", "diabetes"),
        ],
    }
}

/// The Chinese and English labels of a known value of `dim`.
pub fn lookup(dim: Dim, id: &str) -> Option<(&'static str, &'static str)> {
    known(dim)
        .iter()
        .find(|(k, _, _)| *k == id)
        .map(|(_, zh, en)| (*zh, *en))
}

/// The values a policy gets when it does not declare the dimension (`care` must be declared).
pub fn defaults(dim: Dim) -> &'static [&'static str] {
    match dim {
        Dim::Level => &["1", "2", "3"],
        Dim::Place => &["local", "offsite_registered", "offsite_unregistered"],
        Dim::Group => &["insured"],
        Dim::Category | Dim::Care | Dim::Disease => &[],
    }
}
