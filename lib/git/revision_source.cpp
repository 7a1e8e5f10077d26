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

}  // namespace

/// The `git cat-file --batch` process behind one or more revision sources. Answers come in the
/// order of the questions; the mutex keeps a question and its answer together.
class ObjectReader {
public:
    struct Object {
        std::string oid;
        std::string type;
        std::string data;
    };

    explicit ObjectReader(const std::string& git_dir) {
        process::Options options;
        options.argv = {"git", "cat-file", "--batch"};
        if (!git_dir.empty()) {
            options.env["GIT_DIR"] = git_dir;
        }
        git_ = std::make_unique<process::Conversation>(options);
    }

    /// Send a question now; its answer is read later by read_answer(), before any other.
    void ask(std::string_view name) {
        git_->write(name);
        git_->write("\n");
        git_->flush();
    }

    /// Ask and wait for the answer; nullopt when the object is missing or ambiguous. `rev` names
    /// what is being read, for messages.
    std::optional<Object> request(std::string_view name, std::string_view rev) {
        std::lock_guard<std::mutex> lock(mutex);
        git_->write(name);
        git_->write("\n");
        return read_answer(rev);
    }

    /// The answer to the oldest unanswered question (call with the mutex held).
    std::optional<Object> read_answer(std::string_view rev) {
        std::string header;
        try {
            header = git_->read_line();
        } catch (const Error&) {
            // git died (not a repository, a corrupt object): report its own words.
            throw Error(fmt::format("cannot read '{}': {}", rev, git_message(git_->finish())));
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

    std::mutex mutex;

private:
    std::unique_ptr<process::Conversation> git_;
};

namespace {

void check_revision(std::string_view rev) {
    if (rev.empty() || rev.find_first_of("\n\r") != std::string_view::npos || rev.front() == '-') {
        throw Error(fmt::format("bad revision '{}'", rev));
    }
}

class RevisionSource final : public FileSource {
    using Object = ObjectReader::Object;

public:
    /// `asked`: the reader already has the question `<rev>^{commit}` (a reader of our own,
    /// asked before the caller's other work); else it is asked on first use.
    RevisionSource(std::string_view rev, std::shared_ptr<ObjectReader> reader, bool asked)
        : rev_(rev), reader_(std::move(reader)), asked_(asked) {}

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
    std::optional<std::string> tree() const override {
        resolve_root();
        return root_;
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
        std::optional<Object> commit;
        if (asked_) {
            std::lock_guard<std::mutex> lock(reader_->mutex);
            commit = reader_->read_answer(rev_);
        } else {
            commit = request(fmt::format("{}^{{commit}}", rev_));
        }
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

    std::optional<Object> request(const std::string& name) const { return reader_->request(name, rev_); }

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
    std::shared_ptr<ObjectReader> reader_;
    bool asked_ = false;
    // Filled in by resolve_root() on first use.
    mutable bool resolved_ = false;
    mutable std::optional<std::string> commit_;
    mutable std::string root_;
    mutable std::size_t oid_size_ = 20;
    mutable std::map<std::string, std::vector<TreeEntry>> trees_;
};

}  // namespace

std::shared_ptr<ObjectReader> make_object_reader(const std::string& git_dir) {
    return std::make_shared<ObjectReader>(git_dir);
}

std::optional<ObjectInfo> object_info(ObjectReader& reader, std::string_view rev) {
    check_revision(rev);
    auto object = reader.request(rev, rev);
    if (!object) {
        return std::nullopt;
    }
    return ObjectInfo{std::move(object->oid), std::move(object->type)};
}

std::unique_ptr<FileSource> start_revision_source(std::string_view rev, const std::string& git_dir) {
    check_revision(rev);
    // Ask now, read the answer on first use: git starts while the caller does other work
    // (repository discovery runs two more git processes at the same time).
    auto reader = make_object_reader(git_dir);
    reader->ask(fmt::format("{}^{{commit}}", rev));
    return std::make_unique<RevisionSource>(rev, std::move(reader), true);
}

std::unique_ptr<FileSource> make_revision_source(std::string_view rev, const std::string& git_dir) {
    auto source = start_revision_source(rev, git_dir);
    source->commit();  // peel now: a bad revision is reported by the constructor's caller
    return source;
}

std::unique_ptr<FileSource> make_revision_source(std::string_view rev, std::shared_ptr<ObjectReader> reader) {
    check_revision(rev);
    auto source = std::make_unique<RevisionSource>(rev, std::move(reader), false);
    source->commit();
    return source;
}

}  // namespace dataops::git
