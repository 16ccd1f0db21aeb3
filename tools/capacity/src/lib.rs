//! The capacity model (docs/capacity.md): template.yaml and a workload profile in, units,
//! partitions, concurrency, quotas, the first limit to bite and the cost per 1,000 orders out.

pub mod limits;
pub mod model;
pub mod prices;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod template;

#[cfg(test)]
mod tests;
