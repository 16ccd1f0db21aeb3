//! What the server-rendered sites share: the dropshipper portal (`/portal`) and the retailer's
//! console (`/console`). Each site has its own cookies, CSRF key and texts (`security::Site`,
//! `i18n::Texts`); the rules are written once here.

pub mod brand;
pub mod forms;
pub mod i18n;
pub mod page;
pub mod pagination;
pub mod respond;
pub mod security;
