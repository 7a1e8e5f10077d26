#pragma once
/// The resolver's environment-independent work (internal to lib/meltano; see resolve.hpp for
/// the interface). `prepare` builds, once per Project (Project::prepared), what every resolution
/// of it reads whatever the environment: each plugin's setting definitions (its own, its lock
/// file's, Meltano's built-in extras, a custom one for every other configured key), the
/// variables each setting is read from, its flattened base configuration and `env:` block.
/// FixedResults, the results that environments share, are worked out by the resolver.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <dataops/meltano/project.hpp>
#include <dataops/meltano/resolve.hpp>
#include <dataops/meltano/values.hpp>

namespace dataops::meltano {
namespace detail {

using Json = nlohmann::ordered_json;

/// A plugin's setting names -> def index, read once per environment for every key the
/// environment configures. Flat: the hashes lie side by side and one name is compared. (A
/// std::unordered_map this small scans its nodes comparing each key, two cache misses per
/// setting of a cold plugin: 10% of the environments' time on the 2,000-plugin benchmark.)
class NameIndex {
public:
    void reserve(std::size_t n) { entries_.reserve(n); }
    /// The first of equal names wins, as with unordered_map::emplace.
    void add(std::string_view name, std::uint32_t index) {
        entries_.push_back(Entry{hash_of(name), name, index});
    }
    void finish() {
        std::stable_sort(entries_.begin(), entries_.end(),
                         [](const Entry& a, const Entry& b) { return a.hash < b.hash; });
        entries_.shrink_to_fit();
    }
    std::optional<std::uint32_t> find(std::string_view name) const {
        std::optional<std::uint32_t> found;
        each(name, [&](std::uint32_t index) {
            if (!found) {
                found = index;
            }
        });
        return found;
    }
    /// visit(index) for every entry with this name, the first added first.
    template <typename Visit>
    void each(std::string_view name, const Visit& visit) const {
        const std::size_t hash = hash_of(name);
        auto it = std::lower_bound(entries_.begin(), entries_.end(), hash,
                                   [](const Entry& e, std::size_t h) { return e.hash < h; });
        for (; it != entries_.end() && it->hash == hash; ++it) {
            if (it->name == name) {
                visit(it->index);
            }
        }
    }

private:
    static std::size_t hash_of(std::string_view name) {
        return std::hash<std::string_view>{}(name);
    }

    struct Entry {
        std::size_t hash;
        std::string_view name;
        std::uint32_t index;
    };
    std::vector<Entry> entries_;
};

struct EnvVal {
    Json value;
    Position position;
};

using EnvList = std::vector<std::pair<std::string, EnvVal>>;
using EnvMap = StringMap<EnvVal>;

// ---------------------------------------------------------------------------------------------
// Flattened configuration (Meltano's flatten(d, "dot"))

struct FlatValue {
    std::string key;
    Json value;
    Position position;
};

struct FlatConfig {
    std::vector<FlatValue> entries;  ///< first-occurrence order; a repeated key keeps the last value
    /// Built only once there are more than `linear_limit` entries: most configurations (every
    /// environment's plugin block) have a handful of keys, and a scan beats a node-based map
    /// that costs an allocation per key.
    StringMap<std::size_t> index;
    static constexpr std::size_t linear_limit = 16;

    std::ptrdiff_t find_index(std::string_view key) const {
        if (entries.size() <= linear_limit) {
            for (std::size_t i = 0; i < entries.size(); ++i) {
                if (entries[i].key == key) {
                    return static_cast<std::ptrdiff_t>(i);
                }
            }
            return -1;
        }
        auto it = index.find(key);
        return it == index.end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
    }

    const FlatValue* find(std::string_view key) const {
        const std::ptrdiff_t i = find_index(key);
        return i < 0 ? nullptr : &entries[static_cast<std::size_t>(i)];
    }

    void put(std::string key, Json value, Position pos) {
        const std::ptrdiff_t i = find_index(key);
        if (i >= 0) {
            entries[static_cast<std::size_t>(i)].value = std::move(value);
            entries[static_cast<std::size_t>(i)].position = std::move(pos);
            return;
        }
        entries.push_back(FlatValue{std::move(key), std::move(value), std::move(pos)});
        if (entries.size() == linear_limit + 1) {
            index.reserve(entries.size() * 2);
            for (std::size_t e = 0; e < entries.size(); ++e) {
                index.emplace(entries[e].key, e);
            }
        } else if (entries.size() > linear_limit + 1) {
            index.emplace(entries.back().key, entries.size() - 1);
        }
    }
};

/// Flatten a YAML mapping iteratively: non-empty mappings are descended into, everything else
/// (including `{}` and lists) is a leaf. `prefix` is prepended to top-level keys ("_" for extras).
/// `bad_key` is called for keys that are not strings (Meltano fails on those).
template <typename BadKey>
void flatten_into(FlatConfig& out, const yaml::NodeRef& mapping, std::string_view prefix,
                  const BadKey& bad_key) {
    if (!mapping || !mapping.is_mapping()) {
        return;
    }
    struct Frame {
        yaml::NodeRef node;
        std::size_t next;
        std::size_t path_len;
    };
    std::string path;
    boost::container::small_vector<Frame, 8> stack{Frame{mapping, 0, 0}};
    while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.next >= f.node.size()) {
            stack.pop_back();
            continue;
        }
        const std::size_t i = f.next++;
        const yaml::NodeRef k = f.node.key(i);
        const yaml::NodeRef v = f.node.value(i);
        path.resize(f.path_len);
        if (stack.size() == 1) {
            path += prefix;
        } else {
            path += '.';
        }
        if (k.kind() != yaml::Kind::string) {
            bad_key(k);
        }
        path += k.text();
        if (v.is_mapping() && v.size() > 0) {
            stack.push_back(Frame{v, 0, path.size()});
        } else {
            out.put(path, yaml_to_json(v), position_of(v));
        }
    }
}

/// The kind Meltano gives a setting nothing declares, from its YAML value (bool, int, float,
/// object, array; anything else none).
SettingKind kind_of_value(const Json& value);

// ---------------------------------------------------------------------------------------------
// Environment-independent preparation, cached on the Project

/// Lists of variable names, every name's text in one block: a 2,000-plugin project holds some
/// 300,000 of them, and a std::string each (with its own allocation past 15 characters) was a
/// tenth of the resolver's memory. Filled with add() for lists 0, 1, ...; then finish() once,
/// after which the block never moves and the views stay valid.
class NameLists {
public:
    void add(std::span<const std::string> names) {
        for (const auto& n : names) {
            spans_.emplace_back(text_.size(), n.size());
            text_ += n;
        }
        begin_.push_back(static_cast<std::uint32_t>(spans_.size()));
    }

    void finish() {
        block_ = std::make_unique<char[]>(text_.size() + 1);
        std::memcpy(block_.get(), text_.data(), text_.size());
        views_.reserve(spans_.size());
        for (const auto& [offset, size] : spans_) {
            views_.emplace_back(block_.get() + offset, size);
        }
        std::string().swap(text_);  // (assigning an empty one keeps the capacity)
        std::vector<std::pair<std::size_t, std::size_t>>().swap(spans_);
        begin_.shrink_to_fit();
    }

    std::span<const std::string_view> operator[](std::size_t list) const {
        return {views_.data() + begin_[list], views_.data() + begin_[list + 1]};
    }
    /// How many names all the lists hold (after finish()).
    std::size_t total() const { return views_.size(); }

private:
    std::string text_;
    std::vector<std::pair<std::size_t, std::size_t>> spans_;
    std::unique_ptr<char[]> block_;
    std::vector<std::string_view> views_;
    std::vector<std::uint32_t> begin_{0};
};

/// Where a value without a position came from (the process environment, no value at all).
inline const Position no_position{};

struct Result {
    Json value;
    Source source = Source::default_;
    bool expandable = false;
    /// Points into storage that outlives the resolve (the prepared project, a Ctx, the model),
    /// so carrying a Result around never copies a file name.
    const Position* position = &no_position;
    std::optional<std::string_view> env_var_used;  ///< a view of the setting's names
    std::optional<Source> inherited_source;
    std::optional<Json> unexpanded;
};

/// The result of a setting that no environment can change unless it sets one of the setting's
/// variables, configures the setting itself or defines a variable its value references (see
/// compute_fixed and fixed_applies). Every resolution where none of that happens returns this
/// one instead of computing the same value again: most settings of most plugins, in each of a
/// project's environments.
struct Fixed {
    struct Dependencies {
        /// The variables its value references: each comes from the plugin's own `env:` or its
        /// MELTANO_<TYPE>_* variables, and the result holds while no environment layer, which
        /// would come first, defines it.
        std::vector<std::string> references;
        /// For an object assembled from `<name>.<key>` settings: those settings, each with a
        /// result of its own here; the object's holds while all of theirs do.
        std::vector<std::uint32_t> members;
    };
    Result result;
    /// Null for the many results that depend on neither (one pointer rather than two vectors
    /// in every entry: a 2,000-plugin project holds some 38,000 entries).
    std::unique_ptr<const Dependencies> depends;
    /// Valid only where the environment configures no key the plugin does not define (the
    /// environment's own settings): an extra's references are first looked for among the
    /// plugin's settings, and an object takes in the `<name>.<key>` ones.
    bool needs_no_orphans = false;
};

/// Which defs read a variable, by the hash of its name (PreparedPlugin::read_hashes): a
/// resolution marks the defs whose variables it defines from its few defined names, instead of
/// probing every def's names (which made each environment of a 2,000-plugin project walk
/// 70,000 cold hashes). Two names with one hash share their defs: a def marked for a name it
/// does not read is only looked up in the stores and found in none, as without the marks.
class Readers {
public:
    /// `reads(visit)` calls visit(hash, def) for every variable of every def.
    template <typename Reads>
    void build(const Reads& reads) {
        std::size_t total = 0;
        reads([&](std::size_t, std::uint32_t) { ++total; });
        std::size_t cap = 16;
        while (cap < total * 2) {
            cap *= 2;
        }
        hashes_.assign(cap, 0);
        used_.assign(cap, 0);
        begin_.assign(cap + 1, 0);
        mask_ = cap - 1;
        // Counted first, then filled: one block for every list, no allocation per name.
        std::vector<std::uint32_t> slot_of;
        slot_of.reserve(total);
        reads([&](std::size_t hash, std::uint32_t) {
            const std::size_t slot = place(hash);
            slot_of.push_back(static_cast<std::uint32_t>(slot));
            ++begin_[slot + 1];
        });
        for (std::size_t i = 0; i < cap; ++i) {
            begin_[i + 1] += begin_[i];
        }
        defs_.resize(total);
        std::vector<std::uint32_t> next(begin_.begin(), begin_.end() - 1);
        std::size_t k = 0;
        reads([&](std::size_t, std::uint32_t def) { defs_[next[slot_of[k++]]++] = def; });
    }

    /// The defs that read a variable with this name's hash.
    std::span<const std::uint32_t> find(std::string_view name) const {
        if (hashes_.empty()) {
            return {};
        }
        const std::size_t hash = std::hash<std::string_view>{}(name);
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            if (!used_[i]) {
                return {};
            }
            if (hashes_[i] == hash) {
                return {defs_.data() + begin_[i], defs_.data() + begin_[i + 1]};
            }
        }
    }

private:
    std::size_t place(std::size_t hash) {
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            if (!used_[i]) {
                used_[i] = 1;
                hashes_[i] = hash;
                return i;
            }
            if (hashes_[i] == hash) {
                return i;
            }
        }
    }

    std::vector<std::size_t> hashes_;
    std::vector<char> used_;
    std::vector<std::uint32_t> begin_;  ///< per slot, into defs_
    std::vector<std::uint32_t> defs_;
    std::size_t mask_ = 0;
};

/// What resolutions that share results across environments share.
struct FixedResults {
    /// Per plugin, parallel to its defs (empty when none qualifies).
    std::vector<std::vector<std::optional<Fixed>>> plugins;
    /// The defs that read each variable (see Readers), numbered plugin by plugin from def_base.
    Readers readers;
    std::vector<std::uint32_t> def_base;  ///< per plugin, then the total
    /// Per def (def_base numbering): 1 when its shared result holds wherever no environment
    /// layer defines one of its variables and the environment's block does not name it (no
    /// references, no aliases, no need for a block without orphans). Those two bytes decide it
    /// then, without reading the result or the definition.
    std::vector<std::uint8_t> plain;
};

/// Definitions made while preparing (defaults from a lock file, settings for configured keys
/// nothing defines), each at a fixed address.
using OwnedDefinitions = std::vector<std::unique_ptr<SettingDefinition>>;

struct PreparedPlugin {
    std::size_t index = 0;  ///< into Project::plugins
    OwnedDefinitions owned;
    std::string meltano_name;
    PluginType meltano_type = PluginType::extractors;
    std::string namespace_name;
    std::string variant;
    int parent = -1;  ///< project-plugin parent (index into Project::plugins), -1 for none
    bool shadowing = true;
    std::vector<const SettingDefinition*> all_settings;
    std::vector<const SettingDefinition*> extra_settings;
    std::vector<const SettingDefinition*> defs;  ///< all_settings then extra_settings
    /// Per def, the variables Meltano reads it from (list d). The variables it writes are built
    /// on request (write_prefix_vars): on a long `inherit_from` chain every setting writes one
    /// per ancestor, and building them all made a 3,000-plugin chain cost gigabytes.
    NameLists env_names;
    NameIndex by_name;
    std::vector<std::uint32_t> sorted;  ///< def indices by name, for prefix scans
    std::vector<std::string> read_prefix_vars;  ///< to_env_var(prefix, "") of name, namespace
    /// This plugin's own part of the write prefixes (see write_prefix_vars), converted: name and
    /// namespace, then for a chain's root the base plugin's; and MELTANO_<VERB>.
    std::vector<std::string> own_write_prefix_vars;
    std::string verb_prefix_var;
    FlatConfig yml;  ///< config_with_extras, flattened
    /// Parallel to defs: where the name (or the first alias) is in `yml`, and the first alias whose
    /// value differs from it (-1 for none). Both depend only on the plugin, not the environment.
    std::vector<std::int32_t> yml_first;
    std::vector<std::int32_t> yml_conflict;
    /// Parallel to defs: hashes of the variables each def reads (a leading '!' dropped), so that
    /// the per-environment check "is any of them defined at all" hashes nothing.
    std::vector<std::uint32_t> read_hash_begin;  ///< defs.size() + 1 offsets into read_hashes
    std::vector<std::size_t> read_hashes;
    /// For object-kind defs: the defs named `<name or alias>.<key>`, per key, in def order.
    std::vector<std::vector<std::vector<std::uint32_t>>> sub_defs;
    EnvList plugin_env;  ///< the plugin's own `env:` block, as values
    EnvList info_env;
    Diagnostics diagnostics;  ///< environment-independent failures of this plugin
    bool prepared = false;
};

}  // namespace detail

class PreparedProject {
public:
    std::vector<detail::PreparedPlugin> plugins;  ///< parallel to Project::plugins
    /// Every variable name a plugin-level layer can define (plugins' `env:` blocks and the
    /// MELTANO_<TYPE>_* info variables): with the per-environment names, the set a setting's
    /// variables are checked against before any lookup.
    std::vector<std::string> layer_names;
    /// Worked out once, by the first resolution that shares results across environments
    /// (ResolveOptions::share_across_environments); set and read under the prepare lock, never
    /// changed once set.
    mutable std::shared_ptr<const detail::FixedResults> fixed;
};

namespace detail {

/// The project's plugins prepared, each `inherit_from` depth's side by side.
std::shared_ptr<const PreparedProject> prepare(const Project& project);

/// An `env:` block as values, in order; `stringify` turns each non-null value into Python's
/// str() of it, as Meltano does for the top-level block.
EnvList env_list(const std::vector<EnvEntry>& entries, bool stringify);

/// ProjectPlugin.env_prefixes(for_writing=True) of plugin `index`, as variable prefixes.
std::vector<std::string> write_prefix_vars(const PreparedProject& prep, std::size_t index);

/// The variables Meltano reads `def` from: the first n strings of `read`, n returned. The
/// strings are overwritten in place (those past n stay as spare buffers), so that a caller
/// passing the same vector for every def reuses their memory: a 2,000-plugin project has some
/// 70,000 of these names, most past the 15 characters a std::string holds inline.
std::size_t compute_read_names(const PreparedPlugin& pp, const SettingDefinition& def,
                               std::vector<std::string>& read);

/// The variables Meltano writes `def` to, given write_prefix_vars.
std::vector<std::string> compute_write_names(const std::vector<std::string>& prefix_vars,
                                             const SettingDefinition& def);

/// Whether compute_write_names(prefix_vars, def) holds `name`, without building the list.
bool writes_name(const std::vector<std::string>& prefix_vars, const SettingDefinition& def,
                 std::string_view name);

/// writes_name(prefix_vars, def, name) for one name and many settings (an extra's `$VAR` is
/// looked for among all of its plugin's settings): whether the name starts with a prefix at
/// all is worked out once. It rarely does (`$MELTANO_EXTRACTOR_NAMESPACE`, the default of every
/// extractor's `_load_schema`, starts with none of the extractor's), and then only a setting's
/// own `env:` and env aliases can write it.
class NameWriters {
public:
    NameWriters(const std::vector<std::string>& prefix_vars, std::string_view name);
    bool writes(const SettingDefinition& def) const;

private:
    const std::vector<std::string>& prefix_vars_;
    std::string_view name_;
    bool by_prefix_ = false;
};

/// A configuration key as a message names it: a null key (`null:`, `~:`) has no text of its own.
std::string_view key_words(const yaml::NodeRef& key);

/// An error about one plugin, at `pos`.
Diagnostic plugin_diagnostic(std::string code, std::string message, const Position& pos,
                             std::string hint, const std::string& plugin,
                             const std::optional<std::string>& environment = std::nullopt);

}  // namespace detail
}  // namespace dataops::meltano
