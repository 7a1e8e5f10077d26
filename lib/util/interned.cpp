#include <dataops/util/interned.hpp>

#include <mutex>
#include <unordered_set>

namespace dataops::util {
namespace {

struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct Pool {
    std::mutex mutex;
    /// Node-based: an element never moves, so the pointers handed out stay valid.
    std::unordered_set<std::string, Hash, std::equal_to<>> texts;
    const std::string* empty = &*texts.emplace().first;
};

Pool& pool() {
    // Never destroyed: an Interned may be copied or compared during static destruction.
    static Pool* instance = new Pool;
    return *instance;
}

}  // namespace

Interned::Interned() noexcept : text_(pool().empty) {}

Interned::Interned(std::string_view text) {
    Pool& p = pool();
    if (text.empty()) {
        text_ = p.empty;
        return;
    }
    std::lock_guard<std::mutex> lock(p.mutex);
    auto found = p.texts.find(text);
    text_ = found != p.texts.end() ? &*found : &*p.texts.emplace(text).first;
}

}  // namespace dataops::util
