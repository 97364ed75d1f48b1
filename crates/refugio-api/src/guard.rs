//! Refuses URLs that carry NUL characters before any handler sees them: PostgreSQL cannot
//! store NUL in text, so such input must be a clean `400`/`404`, never a database error.

use crate::error::ApiError;
use crate::localize::lang_of;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

fn has_nul(s: &str) -> bool {
    s.contains('\0') || s.to_ascii_lowercase().contains("%00")
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let refusal = if has_nul(req.path()) {
        Some(ApiError::NotFound)
    } else if has_nul(req.query_string()) {
        Some(ApiError::BadQuery(
            "the query string contains a NUL character".into(),
        ))
    } else {
        None
    };
    match refusal {
        Some(error) => {
            let lang = lang_of(req.request());
            Ok(req.into_response(error.render(lang)))
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nul_is_found_raw_or_percent_encoded() {
        assert!(super::has_nul("/users/%00/deactivate"));
        assert!(super::has_nul("a=%00"));
        assert!(!super::has_nul("limit=10&cursor=abc"));
    }
}
