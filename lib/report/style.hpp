#pragma once
/// Colour in what git-dataops prints, as git colours its own output: errors red, warnings
/// yellow, sources and positions dim. A default Style is plain text; whether to colour is the
/// command's decision (cli::use_color), never the renderer's.

#include <string>
#include <string_view>

namespace dataops::report {

class Style {
public:
    Style() = default;
    explicit Style(bool color) : color_(color) {}

    bool color() const { return color_; }
    std::string error(std::string_view text) const { return paint("\033[1;31m", text); }
    std::string warning(std::string_view text) const { return paint("\033[1;33m", text); }
    std::string dim(std::string_view text) const { return paint("\033[2m", text); }
    std::string bold(std::string_view text) const { return paint("\033[1m", text); }
    std::string removed(std::string_view text) const { return paint("\033[31m", text); }
    std::string added(std::string_view text) const { return paint("\033[32m", text); }

private:
    std::string paint(std::string_view code, std::string_view text) const {
        if (!color_ || text.empty()) {
            return std::string(text);
        }
        std::string out(code);
        out += text;
        out += "\033[m";
        return out;
    }

    bool color_ = false;
};

}  // namespace dataops::report
