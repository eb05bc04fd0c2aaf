//! `registries`: each registry's mirrors, with their TLS files, headers and auth.

use super::fields::{AUTH, BASIC, BEARER, CLIENT_PAIR, HEADER_FILE, MIRROR, REGISTRY};
use super::{Decoder, scalar_text};
use crate::code::Code;
use crate::inventory::model::*;
use crate::inventory::path::{index, key};
use crate::inventory::yaml::{Mark, Node, Value};

impl Decoder {
    pub(super) fn registries(&mut self, node: &Node) -> Vec<Registry> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type("registries", node, "a mapping of registry name to settings");
            return Vec::new();
        };
        if let Some(decoded) = self.streamed.take() {
            return decoded;
        }
        let mut registries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in entries {
            let Some(name) = scalar_text(k) else { continue };
            if seen.insert(name)
                && let Some(registry) = self.registry(name, k.mark, v)
            {
                registries.push(registry);
            }
        }
        registries
    }

    /// One registry entry. The parser hands these over one at a time as they complete
    /// ([`Decoder::stream_registry`]), so that a 10,000-registry inventory never holds its
    /// whole YAML tree in memory.
    pub(crate) fn registry(&mut self, name: &str, mark: Mark, v: &Node) -> Option<Registry> {
        let path = key("registries", name);
        let map = self.object(v, &path, &REGISTRY)?;
        let declared_mirrors = match map.get("mirrors").map(|n| &n.value) {
            Some(Value::Sequence(items)) => items.len(),
            Some(_) => 1,
            None => 0,
        };
        // A registry whose `mirrors` is absent (or not a list) is reported once, here; it is
        // not handed on for the rules about its mirrors to report again.
        let mirrors_node = self.required(&map, &path, v.mark, "mirrors");
        let fallback = self
            .field(&map, &path, "fallback")
            .and_then(|n| self.bool(n, &key(&path, "fallback")))
            .unwrap_or(true);
        let server = self
            .field(&map, &path, "server")
            .and_then(|n| self.string(n, &key(&path, "server")));
        let mirrors_path = key(&path, "mirrors");
        let mirrors = self
            .sequence(mirrors_node?, &mirrors_path)?
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.mirror(item, &index(&mirrors_path, i)))
            .collect();
        Some(Registry {
            name: name.to_string(),
            mark,
            mirrors,
            declared_mirrors,
            fallback,
            server,
        })
    }

    /// Decodes a registry entry as soon as the parser completes it (first occurrence of a
    /// name wins, as everywhere); [`Decoder::registries`] then returns these.
    pub(crate) fn stream_registry(&mut self, name: &str, mark: Mark, value: &Node) {
        let seen = self.streamed_names.insert(name.to_string());
        let decoded = if seen {
            self.registry(name, mark, value)
        } else {
            None
        };
        let list = self.streamed.get_or_insert_with(Vec::new);
        list.extend(decoded);
    }

    fn mirror(&mut self, node: &Node, path: &str) -> Option<Mirror> {
        let map = self.object(node, path, &MIRROR)?;
        let url = self
            .required(&map, path, node.mark, "url")
            .and_then(|n| self.string(n, &key(path, "url")));
        let capabilities = self.field(&map, path, "capabilities").map(|n| {
            let list_path = key(path, "capabilities");
            Spanned {
                value: self.string_list(n, &list_path),
                mark: n.mark,
            }
        });
        let ca = self
            .field(&map, path, "ca")
            .map(|n| self.ca(n, &key(path, "ca")))
            .unwrap_or_default();
        let client = self
            .field(&map, path, "client")
            .map(|n| self.client(n, &key(path, "client")))
            .unwrap_or_default();
        let skip_verify = self
            .field(&map, path, "skipVerify")
            .and_then(|n| self.bool(n, &key(path, "skipVerify")));
        let override_path = self
            .field(&map, path, "overridePath")
            .and_then(|n| self.bool(n, &key(path, "overridePath")));
        let headers = self
            .field(&map, path, "headers")
            .map(|n| self.headers(n, &key(path, "headers")))
            .unwrap_or_default();
        let dial_timeout = self
            .field(&map, path, "dialTimeout")
            .and_then(|n| self.string(n, &key(path, "dialTimeout")));
        let auth = self
            .field(&map, path, "auth")
            .and_then(|n| self.auth(n, &key(path, "auth")))
            .map(Box::new);
        Some(Mirror {
            url: url?,
            mark: node.mark,
            capabilities,
            ca,
            client,
            skip_verify,
            override_path,
            headers,
            dial_timeout,
            auth,
        })
    }

    /// `client`: a combined PEM path, a `{cert, key}` pair, or a list mixing both.
    fn client(&mut self, node: &Node, path: &str) -> Vec<ClientCert> {
        match &node.value {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.client_one(item, &index(path, i)))
                .collect(),
            _ => self.client_one(node, path).into_iter().collect(),
        }
    }

    fn client_one(&mut self, node: &Node, path: &str) -> Option<ClientCert> {
        match &node.value {
            Value::Mapping(_) => {
                let map = self.object(node, path, &CLIENT_PAIR)?;
                let cert = self
                    .required(&map, path, node.mark, "cert")
                    .and_then(|n| self.string(n, &key(path, "cert")));
                let key_file = self
                    .required(&map, path, node.mark, "key")
                    .and_then(|n| self.string(n, &key(path, "key")));
                Some(ClientCert::Pair {
                    cert: cert?,
                    key: key_file?,
                })
            }
            Value::Scalar { .. } => self.string(node, path).map(ClientCert::Combined),
            Value::Sequence(_) => {
                self.wrong_type(path, node, "a PEM path or a {cert, key} mapping");
                None
            }
        }
    }

    fn headers(&mut self, node: &Node, path: &str) -> Vec<Header> {
        let Value::Mapping(entries) = &node.value else {
            self.wrong_type(path, node, "a mapping of header name to value");
            return Vec::new();
        };
        let mut headers = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (k, v) in entries {
            let Some(name) = scalar_text(k) else { continue };
            if !seen.insert(name) {
                continue;
            }
            let value_path = key(path, name);
            let list = matches!(v.value, Value::Sequence(_));
            let values: Vec<HeaderValue> = match &v.value {
                Value::Sequence(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.header_value(item, &index(&value_path, i)))
                    .collect(),
                _ => self.header_value(v, &value_path).into_iter().collect(),
            };
            // Values that did not decode are reported already; "no value" would only repeat it.
            let declared_empty = matches!(&v.value, Value::Sequence(items) if items.is_empty());
            if values.is_empty() && !declared_empty {
                continue;
            }
            headers.push(Header {
                name: Spanned {
                    value: name.to_string(),
                    mark: k.mark,
                },
                values,
                list,
            });
        }
        headers
    }

    /// A header value: a string, or `{file: PATH}` read at apply time.
    fn header_value(&mut self, node: &Node, path: &str) -> Option<HeaderValue> {
        match &node.value {
            Value::Mapping(_) => {
                let map = self.object(node, path, &HEADER_FILE)?;
                self.required(&map, path, node.mark, "file")
                    .and_then(|n| self.string(n, &key(path, "file")))
                    .map(HeaderValue::File)
            }
            Value::Scalar { .. } => self
                .string(node, path)
                .map(|s| HeaderValue::Inline(s.value)),
            Value::Sequence(_) => {
                self.wrong_type(path, node, "a string or a {file: PATH} mapping");
                None
            }
        }
    }

    fn auth(&mut self, node: &Node, path: &str) -> Option<Auth> {
        let map = self.object(node, path, &AUTH)?;
        let given = AUTH
            .names()
            .into_iter()
            .filter(|name| map.get(name).is_some())
            .count();
        if given != 1 {
            self.problem(
                Code::S005,
                path,
                node.mark,
                "write exactly one of `provider` (a kubelet credential provider), `basicFrom` (username and password files) or `bearerFrom` (a token file)",
            );
            return None;
        }
        if let Some(b) = self.field(&map, path, "bearerFrom") {
            let bearer_path = key(path, "bearerFrom");
            let map = self.object(b, &bearer_path, &BEARER)?;
            return self
                .required(&map, &bearer_path, b.mark, "tokenFile")
                .and_then(|n| self.string(n, &key(&bearer_path, "tokenFile")))
                .map(|token_file| Auth::BearerFrom { token_file });
        }
        match (
            self.field(&map, path, "provider"),
            self.field(&map, path, "basicFrom"),
        ) {
            (Some(p), _) => self.string(p, &key(path, "provider")).map(Auth::Provider),
            (None, None) => None,
            (None, Some(b)) => {
                let basic_path = key(path, "basicFrom");
                let map = self.object(b, &basic_path, &BASIC)?;
                let user = self
                    .required(&map, &basic_path, b.mark, "usernameFile")
                    .and_then(|n| self.string(n, &key(&basic_path, "usernameFile")));
                let pass = self
                    .required(&map, &basic_path, b.mark, "passwordFile")
                    .and_then(|n| self.string(n, &key(&basic_path, "passwordFile")));
                Some(Auth::BasicFrom {
                    username_file: user?,
                    password_file: pass?,
                })
            }
        }
    }
}
