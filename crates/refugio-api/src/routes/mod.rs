//! HTTP routes, one module per area of the API.

pub mod audit;
pub mod auth;
pub mod bills;
pub mod donations;
pub mod expenses;
pub mod fx_rates;
pub mod health;
pub mod items;
pub mod members;
pub mod needs;
pub mod occupancy;
pub mod reports;
pub mod shelters;
pub mod stock;
pub mod users;

use actix_web::web;

/// Every `/api/v1` route.
pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.service(auth::register)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::password_reset)
        .service(auth::password_reset_confirm)
        .service(users::me)
        .service(users::create_user)
        .service(users::deactivate_user)
        .service(shelters::create)
        .service(shelters::list)
        .service(shelters::get_one)
        .service(shelters::update)
        .service(members::invite)
        .service(members::accept)
        .service(members::list)
        .service(members::remove)
        .service(audit::events)
        .service(audit::verify)
        .service(audit::export)
        .service(items::create)
        .service(items::list)
        .service(items::update)
        .service(stock::record)
        .service(stock::view)
        .service(stock::movements)
        .service(occupancy::record)
        .service(occupancy::show)
        .service(bills::create)
        .service(bills::list)
        .service(bills::update)
        .service(bills::void)
        .service(needs::board)
        .service(needs::of_shelter)
        .service(needs::create_manual)
        .service(needs::cancel)
        .service(expenses::create)
        .service(expenses::list)
        .service(fx_rates::put)
        .service(fx_rates::list)
        .service(donations::pledge)
        .service(donations::mine)
        .service(donations::get_one)
        .service(donations::receive)
        .service(donations::cancel)
        .service(donations::of_shelter)
        .service(reports::spending)
        .service(reports::trace)
        .service(crate::openapi::document);
}
