#include <cmath>
#include <dataops/yaml/document.hpp>
#include <stdexcept>

#include "document_impl.hpp"
#include "scalar.hpp"

namespace dataops::yaml {

namespace {

const detail::NodeData& data(const Document* doc, std::uint32_t id) {
    return doc->impl().node(id);
}

bool is_collection(Kind kind) {
    return kind == Kind::sequence || kind == Kind::mapping;
}

}  // namespace

Kind NodeRef::kind() const {
    return data(doc_, id_).kind;
}

bool NodeRef::is_scalar() const {
    return !is_collection(kind());
}

ScalarStyle NodeRef::style() const {
    return data(doc_, id_).style;
}

Mark NodeRef::mark() const {
    const auto& n = data(doc_, id_);
    return Mark{n.line, n.column};
}

util::Interned NodeRef::file() const {
    return doc_->file();
}

std::string_view NodeRef::text() const {
    const auto& n = data(doc_, id_);
    if (n.kind == Kind::null) {
        return {};
    }
    return doc_->impl().raw_text(n);
}

bool NodeRef::as_bool() const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::boolean) {
        throw std::logic_error("yaml node is not a boolean");
    }
    return doc_->impl().payload(id_) != 0;
}

std::int64_t NodeRef::as_int() const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::integer) {
        throw std::logic_error("yaml node is not an integer");
    }
    if (n.has(detail::flag_big_int)) {
        throw Error("integer '" + std::string(text()) + "' in '" + file().str() + "' at line " +
                    std::to_string(n.line) + ", column " + std::to_string(n.column) +
                    " does not fit in 64 bits");
    }
    return static_cast<std::int64_t>(doc_->impl().payload(id_));
}

std::optional<std::uint64_t> NodeRef::as_big_unsigned() const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::integer) {
        throw std::logic_error("yaml node is not an integer");
    }
    if (!n.has(detail::flag_big_int)) {
        return std::nullopt;
    }
    return detail::big_int_to_uint64(text(), doc_->impl().version);
}

double NodeRef::as_double() const {
    const auto& n = data(doc_, id_);
    if (n.kind == Kind::floating) {
        return detail::bits_double(doc_->impl().payload(id_));
    }
    if (n.kind != Kind::integer) {
        throw std::logic_error("yaml node is not a number");
    }
    if (n.has(detail::flag_big_int)) {
        return detail::big_int_to_double(text(), doc_->impl().version);
    }
    return static_cast<double>(static_cast<std::int64_t>(doc_->impl().payload(id_)));
}

std::string NodeRef::iso_string() const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::date && n.kind != Kind::timestamp) {
        throw std::logic_error("yaml node is not a date or timestamp");
    }
    return detail::iso_string(n.kind, doc_->impl().payload(id_), n.has(detail::flag_drop_fraction));
}

std::size_t NodeRef::size() const {
    const auto& n = data(doc_, id_);
    if (n.kind == Kind::sequence) {
        return n.count;
    }
    if (n.kind == Kind::mapping) {
        return n.count / 2;
    }
    return 0;
}

NodeRef NodeRef::at(std::size_t i) const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::sequence || i >= n.count) {
        throw std::out_of_range("yaml sequence index out of range");
    }
    return NodeRef(doc_, doc_->impl().children[n.first + i]);
}

NodeRef NodeRef::key(std::size_t i) const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::mapping || i >= n.count / 2) {
        throw std::out_of_range("yaml mapping index out of range");
    }
    return NodeRef(doc_, doc_->impl().children[n.first + 2 * i]);
}

NodeRef NodeRef::value(std::size_t i) const {
    const auto& n = data(doc_, id_);
    if (n.kind != Kind::mapping || i >= n.count / 2) {
        throw std::out_of_range("yaml mapping index out of range");
    }
    return NodeRef(doc_, doc_->impl().children[n.first + 2 * i + 1]);
}

std::optional<NodeRef> NodeRef::find(std::string_view key) const {
    const auto& impl = doc_->impl();
    const auto& n = impl.node(id_);
    if (n.kind != Kind::mapping) {
        return std::nullopt;
    }
    for (std::uint32_t slot = 0; slot < n.count; slot += 2) {
        const auto& k = impl.node(impl.children[n.first + slot]);
        if (is_collection(k.kind)) {
            continue;
        }
        const std::string_view text = k.kind == Kind::null ? std::string_view() : impl.raw_text(k);
        if (text == key) {
            return NodeRef(doc_, impl.children[n.first + slot + 1]);
        }
    }
    return std::nullopt;
}

Document::Document() : impl_(std::make_unique<Impl>()) {
    // An empty stream: one null node, so that root() is always valid.
    impl_->nodes.emplace_back();
    impl_->nodes.back().line = 1;
    impl_->nodes.back().column = 1;
}

Document::~Document() = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;

NodeRef Document::root() const {
    return NodeRef(this, impl_->root);
}

bool Document::empty() const {
    return impl_->empty;
}

util::Interned Document::file() const {
    return impl_->file;
}

}  // namespace dataops::yaml
