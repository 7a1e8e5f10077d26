#include <dataops/workspace/workspace.hpp>

#include <cctype>
#include <exception>
#include <optional>
#include <utility>

#include <dataops/git/revision_source.hpp>
#include <dataops/stages/pipeline.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

extern char** environ;

namespace dataops::workspace {
namespace {

/// An explicit project directory as a repository-relative path.
std::string explicit_project(const std::string& dir, const git::Location& location) {
    std::string relative;
    if (!dir.empty() && dir.front() == '/') {
        if (!location.work_tree || !git::path_within(dir, *location.work_tree)) {
            throw Error(fmt::format("project directory '{}' is outside the repository", dir));
        }
        relative = dir.substr(std::min(dir.size(), location.work_tree->size() + 1));
    } else {
        relative = git::join_path(location.prefix, dir);
    }
    auto normal = git::normalize_relative(relative);
    if (!normal) {
        throw Error(fmt::format("project directory '{}' is outside the repository", dir));
    }
    return *normal;
}

/// The project directory: `--project`, else `dataops.project` (when the configuration is known:
/// `config` is null before it has arrived), else the nearest directory from the current one
/// upward that holds meltano.yml, else the root.
std::string project_dir(const OpenOptions& options, const git::Location& location, const git::FileSource& source,
                        const git::Config* config) {
    if (options.project) {
        return explicit_project(*options.project, location);
    }
    if (config != nullptr) {
        if (auto configured = stages::configured_project_dir(*config)) {
            return *configured;
        }
    }
    std::string dir = location.prefix;
    for (;;) {
        if (source.kind(git::join_path(dir, "meltano.yml")) != git::EntryKind::missing || dir.empty()) {
            return dir;
        }
        auto slash = dir.rfind('/');
        dir = slash == std::string::npos ? std::string() : dir.substr(0, slash);
    }
}

/// What was read before the configuration arrived, and from where.
struct EarlyLoad {
    git::Location location;
    std::string project_dir;
    std::unique_ptr<git::FileSource> source;
    meltano::LoadResult load;
};

Workspace open_with(const OpenOptions& options, const git::Repository::LocationListener& on_location) {
    // With --rev, git cat-file starts first and peels the revision while discovery runs.
    std::unique_ptr<git::FileSource> revision;
    if (options.rev) {
        revision = git::start_revision_source(*options.rev);
    }
    Workspace ws{git::Repository::discover({}, on_location), nullptr, {}, {}};
    const auto& location = ws.repository.location();
    if (revision) {
        revision->commit();  // a bad revision is reported here, before anything else is read
        ws.source = std::move(revision);
    } else {
        ws.source = ws.repository.worktree();
    }
    ws.project_dir = project_dir(options, location, *ws.source, &ws.repository.config());
    if (location.work_tree) {
        ws.project_root = ws.project_dir.empty() ? *location.work_tree
                                                 : *location.work_tree + "/" + ws.project_dir;
    }
    return ws;
}

}  // namespace

Workspace open(const OpenOptions& options) { return open_with(options, {}); }

OpenedProject open_project(const OpenOptions& options) {
    std::optional<EarlyLoad> early;
    bool heard = false;
    auto on_location = [&](const git::Location& location) {
        // A second call corrects the file system's answer after the configuration has arrived:
        // nothing is left to overlap, and the ordinary path reads the project.
        early.reset();
        if (std::exchange(heard, true) || options.rev || !location.work_tree) {
            return;
        }
        try {
            auto source = git::make_worktree_source(*location.work_tree);
            std::string dir = project_dir(options, location, *source, nullptr);
            auto load = meltano::load_project(*source, dir);
            early = EarlyLoad{location, std::move(dir), std::move(source), std::move(load)};
        } catch (const std::exception&) {
            // Whatever went wrong is found, and reported, on the ordinary path.
        }
    };
    OpenedProject opened{open_with(options, on_location), {}};
    Workspace& ws = opened.workspace;
    if (early && early->location == ws.repository.location() && early->project_dir == ws.project_dir &&
        !options.rev) {
        ws.source = std::move(early->source);
        opened.load = std::move(early->load);
    } else {
        opened.load = meltano::load_project(*ws.source, ws.project_dir);
    }
    return opened;
}

namespace {

/// python-dotenv's reader (dotenv/parser.py, 1.x), which Meltano reads `.env` with
/// (`dotenv_values`): the same grammar, applied the same way, so that a value means here what it
/// means to Meltano. Each `read_*` consumes its pattern at the cursor and returns false, having
/// consumed nothing, where python-dotenv's regular expression would not match.
class DotenvReader {
public:
    explicit DotenvReader(const std::string& text) : text_(text) {}

    bool has_next() const { return at_ < text_.size(); }

    /// One binding: a key (absent for blank and comment lines) and its value (absent for a key
    /// with no `=`). nullopt for a line python-dotenv rejects (it skips the rest of that line).
    struct Binding {
        std::optional<std::string> key;
        std::optional<std::string> value;
    };
    std::optional<Binding> next() {
        Binding binding;
        skip_while([](char c) { return is_space(c); });  // \s*, across lines
        if (!has_next()) {
            return binding;
        }
        read_export();
        if (peek() == '#') {
            // A comment: no key.
        } else if (peek() == '\'') {
            auto close = text_.find('\'', at_ + 1);
            if (close == std::string::npos || close == at_ + 1) {
                return reject();
            }
            binding.key = text_.substr(at_ + 1, close - at_ - 1);
            at_ = close + 1;
        } else {
            const std::size_t start = at_;
            skip_while([](char c) { return c != '=' && c != '#' && !is_space(c); });
            if (at_ == start) {
                return reject();
            }
            binding.key = text_.substr(start, at_ - start);
        }
        skip_while(is_inline_space);
        if (peek() == '=') {
            ++at_;
            skip_while(is_inline_space);
            auto value = read_value();
            if (!value) {
                return reject();
            }
            binding.value = std::move(value);
        }
        // An optional comment, then the end of the line.
        const std::size_t before_comment = at_;
        skip_while(is_inline_space);
        if (peek() == '#') {
            skip_while([](char c) { return c != '\r' && c != '\n'; });
        } else {
            at_ = before_comment;
        }
        skip_while(is_inline_space);
        if (!has_next()) {
            return binding;
        }
        if (peek() == '\r') {
            ++at_;
            if (peek() == '\n') {
                ++at_;
            }
            return binding;
        }
        if (peek() == '\n') {
            ++at_;
            return binding;
        }
        return reject();
    }

private:
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
    static bool is_inline_space(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }

    char peek() const { return has_next() ? text_[at_] : '\0'; }

    template <typename Predicate>
    void skip_while(Predicate keep) {
        while (has_next() && keep(text_[at_])) {
            ++at_;
        }
    }

    /// `export` and the blanks after it, when both are there.
    void read_export() {
        static constexpr std::string_view word = "export";
        if (text_.compare(at_, word.size(), word) == 0 && at_ + word.size() < text_.size() &&
            is_inline_space(text_[at_ + word.size()])) {
            at_ += word.size();
            skip_while(is_inline_space);
        }
    }

    /// python-dotenv gives up on the line: the rest of it (up to and with its line break) goes.
    std::optional<Binding> reject() {
        skip_while([](char c) { return c != '\r' && c != '\n'; });
        if (peek() == '\r' || peek() == '\n') {
            ++at_;  // `\r` alone first, as its pattern (?:\r|\n|\r\n) matches: a `\n` after it is a blank
        }
        return std::nullopt;
    }

    std::optional<std::string> read_value() {
        const char c = peek();
        if (c == '\'' || c == '"') {
            auto raw = read_quoted(c);
            if (!raw) {
                return std::nullopt;
            }
            return unescape(*raw, c);
        }
        if (!has_next() || c == '\n' || c == '\r') {
            return std::string();
        }
        const std::size_t start = at_;
        skip_while([](char ch) { return ch != '\r' && ch != '\n'; });
        std::string part = text_.substr(start, at_ - start);
        // re.sub(r"\s+#.*", "", part): from the first blank run that a '#' ends.
        for (std::size_t i = 0; i < part.size(); ++i) {
            if (!is_space(part[i])) {
                continue;
            }
            std::size_t j = i;
            while (j < part.size() && is_space(part[j])) {
                ++j;
            }
            if (j < part.size() && part[j] == '#') {
                part.erase(i);
                break;
            }
            i = j - 1;
        }
        while (!part.empty() && is_space(part.back())) {
            part.pop_back();
        }
        return part;
    }

    /// `q((?:\\q|[^q])*)q`, lines included: up to the first unescaped quote; with none, the
    /// regular expression backtracks to the last escaped one, whose backslash stays in the value.
    std::optional<std::string> read_quoted(char quote) {
        const std::size_t start = at_ + 1;
        std::optional<std::size_t> last_escaped;
        for (std::size_t i = start; i < text_.size(); ++i) {
            if (text_[i] == '\\' && i + 1 < text_.size() && text_[i + 1] == quote) {
                last_escaped = i + 1;
                ++i;
                continue;
            }
            if (text_[i] == quote) {
                at_ = i + 1;
                return text_.substr(start, i - start);
            }
        }
        if (!last_escaped) {
            return std::nullopt;
        }
        at_ = *last_escaped + 1;
        return text_.substr(start, *last_escaped - start);
    }

    /// decode_escapes: `\\` and `\'` in single quotes; those, `\"` and `\a\b\f\n\r\t\v` in double.
    static std::string unescape(const std::string& raw, char quote) {
        std::string out;
        out.reserve(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
            const char next = i + 1 < raw.size() ? raw[i + 1] : '\0';
            if (raw[i] != '\\' || next == '\0') {
                out += raw[i];
                continue;
            }
            char decoded = '\0';
            if (next == '\\' || next == '\'') {
                decoded = next;
            } else if (quote == '"') {
                switch (next) {
                case '"': decoded = '"'; break;
                case 'a': decoded = '\a'; break;
                case 'b': decoded = '\b'; break;
                case 'f': decoded = '\f'; break;
                case 'n': decoded = '\n'; break;
                case 'r': decoded = '\r'; break;
                case 't': decoded = '\t'; break;
                case 'v': decoded = '\v'; break;
                default: break;
                }
            }
            if (decoded == '\0') {
                out += raw[i];
                continue;
            }
            out += decoded;
            ++i;
        }
        return out;
    }

    const std::string& text_;
    std::size_t at_ = 0;
};

/// python-dotenv's interpolation of one value: `${NAME}` and `${NAME:-default}` (nothing else),
/// from `known` (a name known without a value reads as ""), else the default, else "".
std::string interpolate(const std::string& value,
                        const std::map<std::string, std::optional<std::string>>& known) {
    std::string out;
    std::size_t at = 0;
    while (at < value.size()) {
        const auto open = value.find("${", at);
        if (open == std::string::npos) {
            break;
        }
        // (?P<name>[^}:]*)(?::-(?P<default>[^}]*))?}
        std::size_t i = open + 2;
        while (i < value.size() && value[i] != '}' && value[i] != ':') {
            ++i;
        }
        const std::string name = value.substr(open + 2, i - open - 2);
        std::optional<std::string> fallback;
        if (value.compare(i, 2, ":-") == 0) {
            const auto close = value.find('}', i + 2);
            if (close != std::string::npos) {
                fallback = value.substr(i + 2, close - i - 2);
                i = close;
            }
        }
        if (i >= value.size() || value[i] != '}') {
            out.append(value, at, open + 1 - at);  // no variable starts here: try one character on
            at = open + 1;
            continue;
        }
        out.append(value, at, open - at);
        if (auto found = known.find(name); found != known.end()) {
            out += found->second.value_or("");
        } else {
            out += fallback.value_or("");
        }
        at = i + 1;
    }
    out.append(value, at, std::string::npos);
    return out;
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(const std::string& text,
                                                const std::map<std::string, std::string>& environment) {
    // dotenv_values(): the bindings in order, each value interpolated against the process
    // environment overridden by the bindings before it (override=True); keys without a value
    // are known but unset.
    std::map<std::string, std::optional<std::string>> known(environment.begin(), environment.end());
    std::map<std::string, std::optional<std::string>> values;
    DotenvReader reader(text);
    while (reader.has_next()) {
        auto binding = reader.next();
        if (!binding || !binding->key) {
            continue;
        }
        std::optional<std::string> value;
        if (binding->value) {
            value = interpolate(*binding->value, known);
        }
        known[*binding->key] = value;
        values[*binding->key] = std::move(value);
    }
    std::map<std::string, std::string> vars;
    for (auto& [key, value] : values) {
        if (value) {
            vars.emplace(key, std::move(*value));
        }
    }
    return vars;
}

std::map<std::string, std::string> read_dotenv(const Workspace& workspace,
                                               const std::map<std::string, std::string>& environment) {
    auto result = workspace.source->read(git::join_path(workspace.project_dir, ".env"), workspace.project_dir);
    if (result.status != git::ReadResult::Status::ok) {
        return {};
    }
    return parse_dotenv(result.data, environment);
}

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string_view::npos) {
            vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
        }
    }
    return vars;
}

}  // namespace dataops::workspace
