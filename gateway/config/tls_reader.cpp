#include "config/tls_reader.hpp"

#include <openssl/ssl.h>

#include "config/tls_context.hpp"
#include "core/text.hpp"

namespace gateway {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kServerKeys[] = {"certificates", "min_version", "client_ca",
                                            "session_ticket_key"};
constexpr std::string_view kCertificateKeys[] = {"cert", "key"};
constexpr std::string_view kUpstreamKeys[] = {"ca", "server_name", "cert", "key", "verify"};

// Relative to routes.yaml's directory, like schemas; symlinks are kept as written, so that a
// Kubernetes Secret's `..data` swap is read through the new link on the next reload.
std::optional<TlsFile> read_path(YamlReader& reader, const YAML::Node& node, std::string_view what,
                                 const fs::path& base_dir) {
    auto written = reader.read_string(node, what);
    if (!written) return std::nullopt;
    if (written->empty()) {
        reader.report(node, std::string(what) + " must name a file");
        return std::nullopt;
    }
    fs::path path(*written);
    if (path.is_relative()) path = (base_dir / path).lexically_normal();
    return TlsFile{path, *written};
}

// Puts each problem at the setting it is about, or at the block when it has no such key.
void report_problems(YamlReader& reader, const YAML::Node& block, const BuiltTls& built,
                     const char* ca_key) {
    for (const auto& problem : built.problems) {
        const char* key = problem.setting == TlsSetting::cert ? "cert"
                          : problem.setting == TlsSetting::key ? "key"
                                                               : ca_key;
        const YAML::Node at = block[key];
        reader.report(at ? at : block, problem.message);
    }
}

void remember(TlsFilesRead& read, const TlsFile* file) {
    if (file) read.files.push_back(file->path.string());
}

}  // namespace

std::shared_ptr<const ServerTls> read_server_tls(YamlReader& reader, const YAML::Node& node,
                                                 const fs::path& base_dir, TlsFilesRead& read) {
    if (!reader.expect_map(node, "tls", kServerKeys)) return nullptr;
    auto tls = std::make_shared<ServerTls>();
    tls->min_version = TLS1_2_VERSION;
    bool usable = true;
    if (const YAML::Node version = node["min_version"]) {
        const auto text = reader.read_string(version, "tls min_version");
        if (text && *text == "1.2") {
            tls->min_version = TLS1_2_VERSION;
        } else if (text && *text == "1.3") {
            tls->min_version = TLS1_3_VERSION;
        } else if (text) {
            reader.report(version, "tls min_version must be \"1.2\" or \"1.3\", got '" + *text +
                                       "' (TLS 1.0 and 1.1 are broken and never offered)");
            usable = false;
        }
    }
    std::optional<TlsFile> client_ca;
    if (const YAML::Node ca = node["client_ca"]) {
        client_ca = read_path(reader, ca, "tls client_ca", base_dir);
        if (client_ca) {
            tls->client_ca_file = client_ca->path.string();
        } else {
            usable = false;
        }
    }
    // One file, or a list: the first seals, the others (keys being rotated out) only open.
    std::vector<TlsFile> ticket_keys;
    if (const YAML::Node keys = node["session_ticket_key"]) {
        const bool listed = keys.IsSequence();
        if (listed && keys.size() == 0) {
            reader.report(keys, "tls session_ticket_key must name a file, or list files (the first "
                                "seals tickets, the others only open them)");
            usable = false;
        }
        for (std::size_t i = 0; i < (listed ? keys.size() : 1); ++i) {
            const YAML::Node entry = listed ? keys[i] : keys;
            const std::string what = listed ? "tls session_ticket_key[" + std::to_string(i) + "]"
                                            : std::string("tls session_ticket_key");
            auto file = read_path(reader, entry, what, base_dir);
            if (file) {
                ticket_keys.push_back(std::move(*file));
            } else {
                usable = false;
            }
        }
    }
    const YAML::Node list = node["certificates"];
    if (!list) {
        reader.report(node, "tls needs 'certificates' (a list of {cert: FILE, key: FILE}, the "
                            "first one the default)");
        return nullptr;
    }
    if (!reader.expect_sequence(list, "tls certificates")) return nullptr;
    if (list.size() == 0) {
        reader.report(list, "tls certificates must hold at least one {cert: FILE, key: FILE}");
        return nullptr;
    }
    bool shared_files_checked = false;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node entry = list[i];
        const std::string what = "tls certificates[" + std::to_string(i) + "]";
        if (!reader.expect_map(entry, what, kCertificateKeys)) {
            usable = false;
            continue;
        }
        std::optional<TlsFile> cert, key;
        if (entry["cert"]) cert = read_path(reader, entry["cert"], what + " cert", base_dir);
        else reader.report(entry, what + " needs 'cert' (a PEM certificate chain file)");
        if (entry["key"]) key = read_path(reader, entry["key"], what + " key", base_dir);
        else reader.report(entry, what + " needs 'key' (the certificate's PEM private key file)");
        if (!cert || !key) {
            usable = false;
            continue;
        }
        remember(read, &*cert);
        remember(read, &*key);
        const TlsFile* ca = client_ca ? &*client_ca : nullptr;
        BuiltTls built = build_server_context(*cert, *key, tls->min_version, ca, ticket_keys);
        // The CA and ticket key files are read for every context; their problems are reported
        // once, at their own keys.
        for (const auto& problem : built.problems) {
            if (shared_files_checked) break;
            if (problem.setting == TlsSetting::ca) reader.report(node["client_ca"], problem.message);
            if (problem.setting == TlsSetting::ticket_key) {
                reader.report(node["session_ticket_key"], problem.message);
            }
        }
        shared_files_checked = true;
        std::erase_if(built.problems, [](const TlsProblem& p) {
            return p.setting == TlsSetting::ca || p.setting == TlsSetting::ticket_key;
        });
        report_problems(reader, entry, built, "cert");
        read.digest = fnv1a64_hex(built.digest, read.digest);
        if (!built.context) {
            usable = false;
            continue;
        }
        tls->certificates.push_back(
            {cert->path.string(), key->path.string(), std::move(built.names), built.context});
    }
    if (client_ca) remember(read, &*client_ca);
    for (const TlsFile& file : ticket_keys) remember(read, &file);
    if (!usable || tls->certificates.empty()) return nullptr;
    select_certificates_by_name(*tls);
    return tls;
}

std::shared_ptr<const UpstreamTls> read_upstream_tls(YamlReader& reader, const YAML::Node& node,
                                                     const fs::path& base_dir,
                                                     const std::string& where, TlsFilesRead& read) {
    // `tls: {}` and a bare `tls:` both mean "TLS, verified against the system's CAs".
    if (node.IsNull()) return read_upstream_tls(reader, YAML::Node(YAML::NodeType::Map), base_dir,
                                                where, read);
    const std::string what = where + " tls";
    if (!reader.expect_map(node, what, kUpstreamKeys)) return nullptr;
    auto tls = std::make_shared<UpstreamTls>();
    bool usable = true;
    std::optional<TlsFile> ca, cert, key;
    if (node["ca"]) {
        ca = read_path(reader, node["ca"], what + " ca", base_dir);
        usable = usable && ca;
    }
    if (node["cert"]) {
        cert = read_path(reader, node["cert"], what + " cert", base_dir);
        usable = usable && cert;
    }
    if (node["key"]) {
        key = read_path(reader, node["key"], what + " key", base_dir);
        usable = usable && key;
    }
    if (node["cert"] && !node["key"]) {
        reader.report(node["cert"], what + " cert needs 'key' (the client certificate's PEM "
                                           "private key file)");
        usable = false;
    } else if (node["key"] && !node["cert"]) {
        reader.report(node["key"], what + " key needs 'cert' (the client certificate it belongs "
                                          "to)");
        usable = false;
    }
    if (const YAML::Node name = node["server_name"]) {
        if (auto text = reader.read_string(name, what + " server_name")) {
            tls->server_name = *text;
        } else {
            usable = false;
        }
    }
    if (const YAML::Node verify = node["verify"]) {
        if (auto value = reader.read_bool(verify, what + " verify")) {
            tls->verify = *value;
            if (!*value) {
                reader.warn(verify, "warning: " + what + " verify: false accepts any certificate "
                                    "the upstream shows, so anyone on the network path can read "
                                    "and change its traffic; give it its CA instead (ca: FILE)");
            }
        } else {
            usable = false;
        }
    }
    if (!usable) return nullptr;
    if (ca && !tls->verify) {
        reader.warn(node["ca"], "warning: " + what + " ca is not used while verify is false");
    }
    remember(read, ca ? &*ca : nullptr);
    remember(read, cert ? &*cert : nullptr);
    remember(read, key ? &*key : nullptr);
    BuiltTls built = build_client_context(ca ? &*ca : nullptr, cert ? &*cert : nullptr,
                                          key ? &*key : nullptr, tls->verify);
    report_problems(reader, node, built, "ca");
    if (!built.context) return nullptr;
    if (ca) tls->ca_file = ca->path.string();
    if (cert) tls->cert_file = cert->path.string();
    if (key) tls->key_file = key->path.string();
    tls->context = built.context;
    tls->digest = fnv1a64_hex(built.digest, tls->server_name + (tls->verify ? "|v|" : "|n|") +
                                                tls->ca_file + "|" + tls->cert_file);
    read.digest = fnv1a64_hex(tls->digest, read.digest);
    return tls;
}

}  // namespace gateway
