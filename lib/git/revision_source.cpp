#include <dataops/git/revision_source.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include <dataops/git/repository.hpp>
#include <dataops/process/process.hpp>
#include <dataops/util/error.hpp>
#include <dataops/util/strings.hpp>
#include <fmt/format.h>

namespace dataops::git {
namespace {

struct TreeEntry {
    std::string name;
    std::string mode;
    std::string oid;  // hex
};

EntryKind kind_of_mode(std::string_view mode) {
    if (mode == "40000" || mode == "040000") {
        return EntryKind::directory;
    }
    if (mode == "120000") {
        return EntryKind::symlink;
    }
    if (mode == "100644" || mode == "100755" || mode == "100664") {
        return EntryKind::file;
    }
    return EntryKind::other;  // 160000: a submodule
}

std::string to_hex(std::string_view raw) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

class RevisionSource final : public FileSource {
public:
    RevisionSource(std::string_view rev, const std::string& git_dir) : rev_(rev) {
        if (rev.empty() || rev.find_first_of("\n\r") != std::string_view::npos || rev.front() == '-') {
            throw Error(fmt::format("bad revision '{}'", rev));
        }
        process::Options options;
        options.argv = {"git", "cat-file", "--batch"};
        if (!git_dir.empty()) {
            options.env["GIT_DIR"] = git_dir;
        }
        git_ = std::make_unique<process::Conversation>(options);
        // Ask now, read the answer on first use: git starts while the caller does other work
        // (repository discovery runs two more git processes at the same time).
        git_->write(fmt::format("{}^{{commit}}\n", rev));
        git_->flush();
    }

    std::string describe() const override {
        resolve_root();
        if (commit_) {
            return commit_->substr(0, 7);
        }
        return root_.substr(0, 7);
    }
    std::optional<std::string> commit() const override {
        resolve_root();
        return commit_;
    }

    EntryKind kind(std::string_view path) const override {
        resolve_root();
        auto normal = normalize_relative(path);
        if (!normal) {
            return EntryKind::missing;
        }
        if (normal->empty()) {
            return EntryKind::directory;
        }
        auto entry = lookup(*normal);
        return entry ? kind_of_mode(entry->mode) : EntryKind::missing;
    }

    std::vector<DirEntry> list(std::string_view path) const override {
        resolve_root();
        std::vector<DirEntry> out;
        auto normal = normalize_relative(path);
        if (!normal) {
            return out;
        }
        std::string oid = root_;
        if (!normal->empty()) {
            auto entry = lookup(*normal);
            if (!entry || kind_of_mode(entry->mode) != EntryKind::directory) {
                return out;
            }
            oid = entry->oid;
        }
        for (const auto& e : tree(oid)) {
            out.push_back({e.name, kind_of_mode(e.mode)});
        }
        std::sort(out.begin(), out.end(),
                  [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
        return out;
    }

    ReadResult read(std::string_view path, std::string_view confine) const override {
        resolve_root();
        ReadResult result;
        auto normal = normalize_relative(path);
        if (!normal || !path_within(*normal, confine)) {
            result.status = ReadResult::Status::outside;
            return result;
        }
        std::string current = *normal;
        for (int hops = 0; hops <= 40; ++hops) {
            // Walk the components; a symlink anywhere on the way is replaced by its target.
            auto parts = util::split(current, '/');
            std::string oid = root_;
            std::string walked;
            bool restarted = false;
            for (std::size_t i = 0; i < parts.size(); ++i) {
                const TreeEntry* entry = find(oid, parts[i]);
                if (entry == nullptr) {
                    result.status = ReadResult::Status::missing;
                    return result;
                }
                EntryKind kind = kind_of_mode(entry->mode);
                if (kind == EntryKind::symlink) {
                    auto target = blob(entry->oid);
                    std::string rest;
                    for (std::size_t j = i + 1; j < parts.size(); ++j) {
                        rest = join_path(rest, parts[j]);
                    }
                    if (!target.empty() && target.front() == '/') {
                        result.status = ReadResult::Status::outside;
                        return result;
                    }
                    auto next = normalize_relative(join_path(join_path(walked, target), rest));
                    if (!next || !path_within(*next, confine)) {
                        result.status = ReadResult::Status::outside;
                        return result;
                    }
                    current = *next;
                    restarted = true;
                    break;
                }
                walked = join_path(walked, parts[i]);
                if (i + 1 < parts.size()) {
                    if (kind != EntryKind::directory) {
                        result.status = ReadResult::Status::missing;
                        return result;
                    }
                    oid = entry->oid;
                    continue;
                }
                result.resolved_path = walked;
                if (kind != EntryKind::file) {
                    result.status = ReadResult::Status::not_a_file;
                    return result;
                }
                result.data = blob(entry->oid);
                result.status = ReadResult::Status::ok;
                return result;
            }
            if (!restarted) {
                // The path was the root itself.
                result.status = ReadResult::Status::not_a_file;
                return result;
            }
        }
        result.status = ReadResult::Status::missing;  // a symlink loop
        return result;
    }

private:
    /// Read the answer to the constructor's question: the commit (and its tree), or else a tree.
    void resolve_root() const {
        if (resolved_) {
            return;
        }
        resolved_ = true;
        auto commit = answer();
        if (commit) {
            commit_ = commit->oid;
            auto tree_line = commit->data.substr(0, commit->data.find('\n'));
            if (!util::starts_with(tree_line, "tree ")) {
                throw Error(fmt::format("cannot read commit '{}': no tree", rev_));
            }
            root_ = std::string(tree_line.substr(5));
            oid_size_ = commit_->size() / 2;
            return;
        }
        // A bare tree id is accepted too, so a merge result can be read before any commit exists.
        auto tree = request(fmt::format("{}^{{tree}}", rev_));
        if (!tree) {
            throw Error(fmt::format("bad revision '{}'", rev_));
        }
        root_ = tree->oid;
        oid_size_ = root_.size() / 2;
    }

    struct Object {
        std::string oid;
        std::string type;
        std::string data;
    };

    /// Ask cat-file for one object; nullopt when it is missing or ambiguous.
    std::optional<Object> request(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        git_->write(name);
        git_->write("\n");
        return read_answer();
    }

    /// The answer to a question already written (the constructor's).
    std::optional<Object> answer() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return read_answer();
    }

    std::optional<Object> read_answer() const {
        std::string header;
        try {
            header = git_->read_line();
        } catch (const Error&) {
            // git died (not a repository, a corrupt object): report its own words.
            throw Error(fmt::format("cannot read '{}': {}", rev_, git_message(git_->finish())));
        }
        // "<oid> <type> <size>", or "<name> missing" / "<name> ambiguous".
        auto last = header.rfind(' ');
        if (last == std::string::npos) {
            throw Error(fmt::format("unexpected answer from 'git cat-file': '{}'", header));
        }
        std::string_view tail(header.c_str() + last + 1);
        if (tail == "missing" || tail == "ambiguous") {
            return std::nullopt;
        }
        auto first = header.find(' ');
        Object object;
        object.oid = header.substr(0, first);
        object.type = header.substr(first + 1, last - first - 1);
        std::size_t size = std::stoull(std::string(tail));
        object.data = git_->read_exact(size);
        git_->read_exact(1);  // the LF after the contents
        return object;
    }

    const std::vector<TreeEntry>& tree(const std::string& oid) const {
        auto cached = trees_.find(oid);
        if (cached != trees_.end()) {
            return cached->second;
        }
        auto object = request(oid);
        if (!object || object->type != "tree") {
            throw Error(fmt::format("cannot read tree '{}' of '{}'", oid, rev_));
        }
        std::vector<TreeEntry> entries;
        const std::string& data = object->data;
        std::size_t pos = 0;
        while (pos < data.size()) {
            auto space = data.find(' ', pos);
            auto nul = data.find('\0', space);
            if (space == std::string::npos || nul == std::string::npos || nul + 1 + oid_size_ > data.size()) {
                throw Error(fmt::format("cannot parse tree '{}' of '{}'", oid, rev_));
            }
            TreeEntry entry;
            entry.mode = data.substr(pos, space - pos);
            entry.name = data.substr(space + 1, nul - space - 1);
            entry.oid = to_hex(std::string_view(data).substr(nul + 1, oid_size_));
            entries.push_back(std::move(entry));
            pos = nul + 1 + oid_size_;
        }
        return trees_.emplace(oid, std::move(entries)).first->second;
    }

    const TreeEntry* find(const std::string& tree_oid, std::string_view name) const {
        for (const auto& entry : tree(tree_oid)) {
            if (entry.name == name) {
                return &entry;
            }
        }
        return nullptr;
    }

    std::optional<TreeEntry> lookup(const std::string& path) const {
        std::string oid = root_;
        auto parts = util::split(path, '/');
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const TreeEntry* entry = find(oid, parts[i]);
            if (entry == nullptr) {
                return std::nullopt;
            }
            if (i + 1 == parts.size()) {
                return *entry;
            }
            if (kind_of_mode(entry->mode) != EntryKind::directory) {
                return std::nullopt;
            }
            oid = entry->oid;
        }
        return std::nullopt;
    }

    std::string blob(const std::string& oid) const {
        auto object = request(oid);
        if (!object || object->type != "blob") {
            throw Error(fmt::format("cannot read blob '{}' of '{}'", oid, rev_));
        }
        return std::move(object->data);
    }

    std::string rev_;
    std::unique_ptr<process::Conversation> git_;
    // Filled in by resolve_root() on first use.
    mutable bool resolved_ = false;
    mutable std::optional<std::string> commit_;
    mutable std::string root_;
    mutable std::size_t oid_size_ = 20;
    mutable std::map<std::string, std::vector<TreeEntry>> trees_;
    mutable std::mutex mutex_;
};

}  // namespace

std::unique_ptr<FileSource> start_revision_source(std::string_view rev, const std::string& git_dir) {
    return std::make_unique<RevisionSource>(rev, git_dir);
}

std::unique_ptr<FileSource> make_revision_source(std::string_view rev, const std::string& git_dir) {
    auto source = start_revision_source(rev, git_dir);
    source->commit();  // peel now: a bad revision is reported by the constructor's caller
    return source;
}

}  // namespace dataops::git
