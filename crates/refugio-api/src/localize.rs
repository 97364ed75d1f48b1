//! Re-renders problem responses in the request's language (`Accept-Language: es`), and
//! writes header names in their conventional capitalization.

use crate::error::ApiError;
use crate::i18n::Lang;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::HttpRequest;

/// The language errors are written in for this request: `Accept-Language`, else English.
pub fn lang_of(req: &HttpRequest) -> Lang {
    let header = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::from_accept_language(header).unwrap_or(Lang::En)
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = lang_of(req.request());
    let response = next.call(req).await?.map_into_boxed_body();
    let error = response.response().extensions().get::<ApiError>().cloned();
    let mut response = match error {
        Some(error) if lang != Lang::En => response.into_response(error.render(lang)),
        _ => response,
    };
    // `Content-Type`, not `content-type`: some clients read headers case-sensitively.
    response
        .response_mut()
        .head_mut()
        .set_camel_case_headers(true);
    Ok(response)
}
