//! Re-renders problem responses in the request's language (`Accept-Language: es`).

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
    if lang == Lang::En {
        return Ok(response);
    }
    let Some(error) = response.response().extensions().get::<ApiError>().cloned() else {
        return Ok(response);
    };
    Ok(response.into_response(error.render(lang)))
}
