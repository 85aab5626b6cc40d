//! IPv4 CIDR arithmetic with Terraform's `cidrsubnet`/`cidrhost` semantics.

fn parse(prefix: &str) -> Result<(u32, u32), String> {
    let (addr, len) = prefix
        .split_once('/')
        .ok_or_else(|| format!("`{prefix}` is not a CIDR block (expected `a.b.c.d/n`)"))?;
    let len: u32 = len
        .parse()
        .map_err(|_| format!("`{prefix}` has a bad prefix length"))?;
    if len > 32 {
        return Err(format!("`{prefix}`: prefix length must be at most 32"));
    }
    let octets: Vec<&str> = addr.split('.').collect();
    if octets.len() != 4 {
        return Err(format!("`{prefix}` is not an IPv4 CIDR block"));
    }
    let mut ip: u32 = 0;
    for o in octets {
        let b: u8 = o
            .parse()
            .map_err(|_| format!("`{prefix}` is not an IPv4 CIDR block"))?;
        ip = (ip << 8) | u32::from(b);
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Ok((ip & mask, len))
}

/// `(network, prefix length)` of an IPv4 CIDR block, host bits cleared.
pub(crate) fn block(prefix: &str) -> Result<(u32, u32), String> {
    parse(prefix)
}

/// Whether two blocks share an address.
pub(crate) fn overlaps((a, al): (u32, u32), (b, bl): (u32, u32)) -> bool {
    let len = al.min(bl);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a & mask == b & mask
}

/// Whether `inner` lies inside `outer`.
pub(crate) fn contains(outer: (u32, u32), inner: (u32, u32)) -> bool {
    outer.1 <= inner.1 && overlaps(outer, inner)
}

fn show(ip: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

pub fn subnet(prefix: &str, newbits: i64, netnum: i64) -> Result<String, String> {
    let (base, len) = parse(prefix)?;
    if newbits < 0 || len as i64 + newbits > 32 {
        return Err(format!(
            "`cidrsubnet`: {prefix} cannot be extended by {newbits} bits"
        ));
    }
    let new_len = len + newbits as u32;
    if netnum < 0 || (newbits < 63 && netnum >= (1i64 << newbits)) {
        return Err(format!(
            "`cidrsubnet`: network number {netnum} does not fit in {newbits} bits"
        ));
    }
    let shift = 32 - new_len;
    let ip = if newbits == 0 {
        base
    } else {
        base | ((netnum as u32) << shift)
    };
    Ok(format!("{}/{new_len}", show(ip)))
}

pub fn host(prefix: &str, hostnum: i64) -> Result<String, String> {
    let (base, len) = parse(prefix)?;
    let size: i64 = 1i64 << (32 - len);
    let n = if hostnum < 0 { size + hostnum } else { hostnum };
    if n < 0 || n >= size {
        return Err(format!(
            "`cidrhost`: host number {hostnum} is outside {prefix}"
        ));
    }
    Ok(show(base + n as u32))
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_terraform() {
        assert_eq!(super::subnet("10.0.0.0/16", 8, 2).unwrap(), "10.0.2.0/24");
        assert_eq!(super::subnet("10.0.0.0/8", 8, 1).unwrap(), "10.1.0.0/16");
        assert_eq!(
            super::subnet("10.1.0.0/16", 4, 15).unwrap(),
            "10.1.240.0/20"
        );
        assert!(super::subnet("10.0.0.0/16", 8, 256).is_err());
        assert!(super::subnet("10.0.0.0/30", 8, 0).is_err());
        assert_eq!(super::host("10.0.0.0/24", 5).unwrap(), "10.0.0.5");
        assert_eq!(super::host("10.0.0.0/24", -1).unwrap(), "10.0.0.255");
    }
}
