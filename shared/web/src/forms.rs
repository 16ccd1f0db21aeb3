//! HTML form bodies: `application/x-www-form-urlencoded` and, for the CSV upload,
//! `multipart/form-data`. Sizes are bounded before anything is parsed.

use lambda_http::Request;

/// A form post's body is small; anything bigger is not one of our forms.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// A stock list of 1000 rows is far below this.
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024;

/// The fields of a submitted form, in order (a name may repeat).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Fields whose names start with `prefix`, with the rest of the name (`qty:L1` -> `L1`).
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v.as_str())))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub field: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    TooLarge,
    Malformed(String),
}

fn body(req: &Request) -> &[u8] {
    req.body().as_ref()
}

/// An urlencoded form body.
pub fn urlencoded(req: &Request) -> Result<Form, FormError> {
    let bytes = body(req);
    if bytes.len() > MAX_FORM_BYTES {
        return Err(FormError::TooLarge);
    }
    Ok(Form(
        form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    ))
}

/// A multipart body: its text fields and its file (the first file field).
pub async fn multipart(req: &Request) -> Result<(Form, Option<Upload>), FormError> {
    let bytes = body(req);
    if bytes.len() > MAX_UPLOAD_BYTES + MAX_FORM_BYTES {
        return Err(FormError::TooLarge);
    }
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| FormError::Malformed(format!("not a multipart form: {e}")))?;
    let data = bytes::Bytes::copy_from_slice(bytes);
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(data) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut form = Form::default();
    let mut upload = None;
    loop {
        let field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(FormError::Malformed(e.to_string())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field.file_name().is_some();
        let data = field
            .bytes()
            .await
            .map_err(|e| FormError::Malformed(e.to_string()))?;
        if is_file {
            if data.len() > MAX_UPLOAD_BYTES {
                return Err(FormError::TooLarge);
            }
            if upload.is_none() {
                upload = Some(Upload {
                    field: name,
                    bytes: data.to_vec(),
                });
            }
        } else {
            if data.len() > MAX_FORM_BYTES {
                return Err(FormError::TooLarge);
            }
            form.0
                .push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    Ok((form, upload))
}

/// A count typed into a number field: blank is 0; anything else must be a whole number.
pub fn count(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    s.parse::<u64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: &str, body: &[u8]) -> Request {
        http::Request::builder()
            .header("content-type", content_type)
            .body(lambda_http::Body::Binary(body.to_vec()))
            .unwrap_or_default()
    }

    #[test]
    fn urlencoded_fields_keep_order_and_decode() {
        let req = request(
            "application/x-www-form-urlencoded",
            b"csrf=abc&qty%3AL1=2&qty%3AL2=&reason=zu+gro%C3%9F",
        );
        let f = urlencoded(&req).unwrap_or_default();
        assert_eq!(f.get("csrf"), Some("abc"));
        assert_eq!(f.get("reason"), Some("zu groß"));
        let q: Vec<_> = f.with_prefix("qty:").collect();
        assert_eq!(q, [("L1", "2"), ("L2", "")]);
        let big = vec![b'a'; MAX_FORM_BYTES + 1];
        assert_eq!(
            urlencoded(&request("application/x-www-form-urlencoded", &big)),
            Err(FormError::TooLarge)
        );
    }

    #[tokio::test]
    async fn multipart_gives_fields_and_the_file() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"feed\"; filename=\"stock.csv\"\r\n\
            Content-Type: text/csv\r\n\r\nsku,available\nA,1\n\r\n--XyZ--\r\n";
        let req = request("multipart/form-data; boundary=XyZ", body.as_bytes());
        let (form, upload) = multipart(&req).await.unwrap_or_default();
        assert_eq!(form.get("csrf"), Some("tok"));
        let upload = upload.unwrap_or(Upload {
            field: String::new(),
            bytes: Vec::new(),
        });
        assert_eq!(upload.field, "feed");
        assert_eq!(upload.bytes, b"sku,available\nA,1\n");
        assert!(matches!(
            multipart(&request("text/plain", b"x")).await,
            Err(FormError::Malformed(_))
        ));
    }

    #[test]
    fn counts_are_whole_numbers_or_blank() {
        assert_eq!(count(""), Some(0));
        assert_eq!(count(" 3 "), Some(3));
        assert_eq!(count("-1"), None);
        assert_eq!(count("1.5"), None);
        assert_eq!(count("zwei"), None);
    }
}
