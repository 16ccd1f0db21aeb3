//! The carriers' public tracking pages a shipping notice links to. Separate because it knows
//! carriers and URL encoding, not mails.

/// Percent-encodes everything but unreserved characters (RFC 3986), for a URL path or query.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The public tracking page of the carriers customers in the DACH region meet most; another
/// carrier's mail shows the tracking number alone.
pub fn tracking_url(carrier: &str, tracking_number: &str) -> Option<String> {
    let n = url_encode(tracking_number.trim());
    let url = match carrier.trim().to_ascii_lowercase().as_str() {
        "dhl" | "dhl paket" | "deutsche post" => {
            format!(
                "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={n}"
            )
        }
        "dpd" => format!("https://tracking.dpd.de/status/de_DE/parcel/{n}"),
        "ups" => format!("https://www.ups.com/track?tracknum={n}"),
        "gls" => format!("https://gls-group.com/DE/de/paketverfolgung?match={n}"),
        "hermes" => {
            format!("https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation/#{n}")
        }
        _ => return None,
    };
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_links_for_known_carriers_only() {
        assert_eq!(
            tracking_url("DHL", "0034 0434"),
            Some("https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=0034%200434".into())
        );
        assert_eq!(
            tracking_url(" ups ", "1Z&x=1"),
            Some("https://www.ups.com/track?tracknum=1Z%26x%3D1".into())
        );
        assert_eq!(tracking_url("Spedition Müller", "123"), None);
    }
}
