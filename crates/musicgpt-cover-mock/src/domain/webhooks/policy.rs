//! Where the mock may send a webhook: loopback hosts, and the hosts `--webhook-allow` names.

use url::Url;

/// Whether the mock may send a webhook to `url`: only to loopback hosts (127.0.0.0/8, ::1,
/// localhost) and to the hosts of `allow`. The error says why not.
pub(crate) fn check_target(url: &str, allow: &[String]) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("not a valid URL ({e})"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!("scheme {:?} is not http or https", parsed.scheme()));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => return Ok(()),
        Some(url::Host::Ipv6(ip))
            if ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()) =>
        {
            return Ok(());
        }
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => return Err("the URL has no host".to_owned()),
    };
    if host == "localhost" {
        return Ok(());
    }
    let allowed = allow.iter().any(|a| {
        let a = a.trim_end_matches('.');
        a.eq_ignore_ascii_case(&host)
            || a.trim_matches(|c| c == '[' || c == ']')
                == host.trim_matches(|c| c == '[' || c == ']')
    });
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "host {host} is not a loopback host and not allowed by --webhook-allow; the mock sends no traffic off the machine"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_unless_allowed() {
        let none: &[String] = &[];
        for ok in [
            "http://127.0.0.1:9000/hook",
            "http://127.1.2.3/",
            "http://[::1]:80/x",
            "http://localhost/x",
            "http://LOCALHOST./x",
            "https://127.0.0.1/x",
        ] {
            assert_eq!(check_target(ok, none), Ok(()), "{ok}");
        }
        for bad in [
            "http://webhook.musicgpt.com",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "not a url",
            "http://localhost.evil.com/",
        ] {
            assert!(check_target(bad, none).is_err(), "{bad}");
        }
        let allow = vec!["hooks.example.com".to_owned(), "10.0.0.7".to_owned()];
        assert_eq!(check_target("http://HOOKS.example.com/x", &allow), Ok(()));
        assert_eq!(check_target("http://10.0.0.7:8080/x", &allow), Ok(()));
        assert!(check_target("http://10.0.0.8/x", &allow).is_err());
    }
}
