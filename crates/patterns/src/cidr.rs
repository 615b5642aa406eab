//! `cidr` matching: an IPv4 or IPv6 block, and the event strings that are addresses inside it.

use std::net::IpAddr;

/// A CIDR block as an inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    V4 { low: u32, high: u32 },
    V6 { low: u128, high: u128 },
}

/// An address from an event, as a number of its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Address {
    V4(u32),
    V6(u128),
}

impl Address {
    /// Parses an event string; `None` when it is not an address.
    pub(crate) fn parse(text: &str) -> Option<Address> {
        // Cheap rejection first: most strings in events are not addresses.
        let first = *text.as_bytes().first()?;
        if !(first.is_ascii_hexdigit() || first == b':') {
            return None;
        }
        match text.parse::<IpAddr>().ok()? {
            IpAddr::V4(address) => Some(Address::V4(u32::from(address))),
            IpAddr::V6(address) => Some(Address::V6(u128::from(address))),
        }
    }
}

impl Cidr {
    /// Parses `address/length`; host bits are ignored, as in `10.0.0.5/24`.
    pub(crate) fn parse(text: &str) -> Result<Cidr, String> {
        let Some((address, length)) = text.split_once('/') else {
            return Err(format!("Malformed CIDR, one '/' required: {text}"));
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("Nonstandard IP address: {address}"))?;
        let length: u32 = length
            .parse()
            .ok()
            .filter(|length| *length <= if address.is_ipv4() { 32 } else { 128 })
            .ok_or_else(|| format!("Invalid prefix length in CIDR: {text}"))?;
        Ok(match address {
            IpAddr::V4(address) => {
                let host_bits = u32::MAX.checked_shr(length).unwrap_or(0);
                let low = u32::from(address) & !host_bits;
                Cidr::V4 {
                    low,
                    high: low | host_bits,
                }
            }
            IpAddr::V6(address) => {
                let host_bits = u128::MAX.checked_shr(length).unwrap_or(0);
                let low = u128::from(address) & !host_bits;
                Cidr::V6 {
                    low,
                    high: low | host_bits,
                }
            }
        })
    }

    pub(crate) fn contains(&self, address: Address) -> bool {
        match (*self, address) {
            (Cidr::V4 { low, high }, Address::V4(address)) => (low..=high).contains(&address),
            (Cidr::V6 { low, high }, Address::V6(address)) => (low..=high).contains(&address),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Address, Cidr};

    fn check(cidr: &str, address: &str, expect: bool) {
        let cidr = Cidr::parse(cidr).unwrap();
        let inside = Address::parse(address).is_some_and(|address| cidr.contains(address));
        assert_eq!(inside, expect, "{address} in {cidr:?}");
    }

    #[test]
    fn blocks_contain_their_addresses() {
        check("10.0.0.0/24", "10.0.0.0", true);
        check("10.0.0.0/24", "10.0.0.255", true);
        check("10.0.0.0/24", "10.0.1.0", false);
        check("10.0.0.5/24", "10.0.0.7", true);
        check("0.0.0.0/0", "255.255.255.255", true);
        check("10.0.0.1/32", "10.0.0.1", true);
        check("10.0.0.1/32", "10.0.0.2", false);
        check("2001:db8::/32", "2001:db8:ffff::1", true);
        check("2001:db8::/32", "2001:db9::1", false);
        check("::/0", "::1", true);
        check("10.0.0.0/8", "2001:db8::1", false);
        check("10.0.0.0/8", "not an address", false);
        check("10.0.0.0/8", "10.0.0", false);
    }

    #[test]
    fn bad_blocks_are_rejected() {
        assert_eq!(
            Cidr::parse("10.0.0.0").unwrap_err(),
            "Malformed CIDR, one '/' required: 10.0.0.0"
        );
        assert_eq!(Cidr::parse("10.0.0/8").unwrap_err(), "Nonstandard IP address: 10.0.0");
        assert_eq!(
            Cidr::parse("10.0.0.0/33").unwrap_err(),
            "Invalid prefix length in CIDR: 10.0.0.0/33"
        );
        assert_eq!(
            Cidr::parse("::/129").unwrap_err(),
            "Invalid prefix length in CIDR: ::/129"
        );
        assert!(Cidr::parse("10.0.0.0/x").is_err());
    }
}
