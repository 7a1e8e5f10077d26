// docgen: turn a command's documentation source (docs/commands/git-dataops*.md) into the two
// things built from it, so that the -h text and the man page cannot drift apart:
//
//   docgen header <page.md> <out.hpp>
//       a header with the page's USAGE block, byte for byte, as `usage` (what -h prints) and its
//       NAME line's summary as `summary`, in namespace dataops::docs::<verb> ("dispatcher" for
//       git-dataops itself)
//   docgen man <version> <date> <page.md> <out.1> [<command page.md>...]
//       the roff man page; the dispatcher's page lists the command pages given after it
//
// The source is a small subset of Markdown that reads well on GitHub: `# git-dataops-x(1)`, then
// `## SECTION` headings. `## NAME` is one line `git-dataops-x - summary`. `## USAGE` holds one
// fenced block, the -h text: usage lines, description paragraphs and the option list; the man
// page's SYNOPSIS, DESCRIPTION and OPTIONS come from it, followed by the page's own DESCRIPTION
// and OPTIONS text. Every other section is copied in order. Section bodies may hold paragraphs,
// fenced blocks, `- ` lists (`` - `term`: text `` is a definition), `### ` subheadings and
// `<!-- -->` comments; inline `code` becomes bold and `[text](link)` becomes text.
//
// A host tool of the build: it uses the standard library only and fails with file:line: error.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct SourceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Line {
    int number = 0;
    std::string text;
};

struct Section {
    std::string title;
    int line = 0;
    std::vector<Line> body;
};

struct Page {
    std::string path;
    std::string name;                ///< git-dataops-promote
    std::string summary;             ///< the NAME line after " - "
    std::vector<std::string> usage;  ///< the -h text, one entry per line
    int usage_line = 0;
    std::vector<Section> sections;  ///< every section but NAME and USAGE, in order
};

[[noreturn]] void fail(const std::string& path, int line, const std::string& message) {
    throw SourceError(path + ":" + std::to_string(line) + ": error: " + message);
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

std::string trim(const std::string& text) {
    auto begin = text.find_first_not_of(' ');
    if (begin == std::string::npos) {
        return "";
    }
    return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

std::string base_name(const std::string& path) {
    auto slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    auto dot = name.rfind(".md");
    return dot == std::string::npos ? name : name.substr(0, dot);
}

/// The identifier of a page's namespace: "promote" for git-dataops-promote, "dispatcher" for
/// git-dataops.
std::string verb_of(const std::string& name) {
    const std::string prefix = "git-dataops-";
    if (!starts_with(name, prefix)) {
        return "dispatcher";
    }
    std::string verb = name.substr(prefix.size());
    for (auto& c : verb) {
        if (c == '-') {
            c = '_';
        }
    }
    return verb;
}

/// The fenced block starting at body[i] (a ``` line); i ends on the closing fence.
std::vector<std::string> fenced(const std::string& path, const std::vector<Line>& body,
                                std::size_t& i) {
    std::vector<std::string> lines;
    const int opened = body[i].number;
    for (++i; i < body.size(); ++i) {
        if (starts_with(body[i].text, "```")) {
            return lines;
        }
        lines.push_back(body[i].text);
    }
    fail(path, opened, "this code block is not closed");
}

Page read_page(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw SourceError("error: cannot read '" + path + "'");
    }
    Page page;
    page.path = path;
    page.name = base_name(path);
    std::string text;
    int number = 0;
    bool title_seen = false;
    bool in_fence = false;
    while (std::getline(in, text)) {
        ++number;
        if (!text.empty() && text.back() == '\r') {
            fail(path, number, "CRLF line ending; the -h text must be plain LF");
        }
        if (!in_fence && starts_with(text, "# ")) {
            if (title_seen || text != "# " + page.name + "(1)") {
                fail(path, number, "the first heading must be '# " + page.name + "(1)'");
            }
            title_seen = true;
            continue;
        }
        if (!in_fence && starts_with(text, "## ")) {
            page.sections.push_back({text.substr(3), number, {}});
            continue;
        }
        if (starts_with(text, "```")) {
            in_fence = !in_fence;
        }
        if (page.sections.empty()) {
            if (!trim(text).empty()) {
                fail(path, number, "text before the first '## ' section");
            }
            continue;
        }
        page.sections.back().body.push_back({number, text});
    }
    if (!title_seen) {
        fail(path, 1, "missing the title '# " + page.name + "(1)'");
    }

    std::vector<Section> rest;
    bool have_name = false;
    for (auto& section : page.sections) {
        if (section.title == "NAME") {
            for (const auto& line : section.body) {
                if (trim(line.text).empty()) {
                    continue;
                }
                const std::string prefix = page.name + " - ";
                if (have_name || !starts_with(line.text, prefix) ||
                    line.text.size() == prefix.size()) {
                    fail(path, line.number, "NAME must be one line: '" + prefix + "<summary>'");
                }
                page.summary = line.text.substr(prefix.size());
                have_name = true;
            }
        } else if (section.title == "USAGE") {
            for (std::size_t i = 0; i < section.body.size(); ++i) {
                const auto& line = section.body[i];
                if (starts_with(line.text, "```")) {
                    if (!page.usage.empty()) {
                        fail(path, line.number, "USAGE holds exactly one code block, the -h text");
                    }
                    page.usage_line = line.number + 1;
                    page.usage = fenced(path, section.body, i);
                } else if (starts_with(line.text, "<!--")) {
                    while (i < section.body.size() &&
                           section.body[i].text.find("-->") == std::string::npos) {
                        ++i;
                    }
                } else if (!trim(line.text).empty()) {
                    fail(path, line.number, "USAGE holds only the -h text in a ``` block");
                }
            }
            if (page.usage.empty() || !starts_with(page.usage.front(), "usage: ")) {
                fail(path, section.line,
                     "USAGE needs a ``` block whose first line starts with 'usage: '");
            }
        } else {
            rest.push_back(std::move(section));
        }
    }
    if (!have_name) {
        fail(path, 1, "missing '## NAME'");
    }
    if (page.usage.empty()) {
        fail(path, 1, "missing '## USAGE'");
    }
    page.sections = std::move(rest);
    return page;
}

// ---- the header ---------------------------------------------------------------------------------

std::string c_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\' || c == '?') {  // '?': no trigraphs, whatever the mode
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            // Octal escapes keep UTF-8 bytes exact; three digits end the escape.
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\%03o", c);
            out += buffer;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string header(const Page& page) {
    std::string out =
        "// Generated by tools/docgen from docs/commands/" + page.name + ".md; do not edit.\n";
    out += "#pragma once\n\nnamespace dataops::docs::" + verb_of(page.name) + " {\n\n";
    out += "/// The -h text of " + page.name + ".\n";
    out += "inline constexpr const char usage[] =\n";
    for (const auto& line : page.usage) {
        out += "    " + c_string(line + "\n") + "\n";
    }
    out += "    ;\n\n/// The one-line summary of " + page.name + " (its man page's NAME).\n";
    out += "inline constexpr const char summary[] = " + c_string(page.summary) + ";\n\n}\n";
    return out;
}

// ---- roff ---------------------------------------------------------------------------------------

/// Plain text for roff: backslashes, hyphens (so options render as ASCII '-') and non-ASCII
/// characters (as \[uXXXX], so groff needs no input encoding) escaped.
std::string roff_escape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
            unsigned code = c & (0x3fu >> extra);
            for (int k = 0; k < extra && i + 1 < text.size(); ++k) {
                code = (code << 6) | (static_cast<unsigned char>(text[++i]) & 0x3fu);
            }
            char buffer[16];
            std::snprintf(buffer, sizeof buffer, "\\[u%04X]", code);
            out += buffer;
        }
    }
    return out;
}

/// Inline Markdown to roff: `code` bold, [text](link) as its text, name(1) references bold.
std::string roff_inline(const std::string& text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '`') {
            auto close = text.find('`', i + 1);
            if (close != std::string::npos) {
                // Unbreakable spaces: a command or option is never split across lines.
                std::string code = roff_escape(text.substr(i + 1, close - i - 1));
                for (auto at = code.find(' '); at != std::string::npos;
                     at = code.find(' ', at + 2)) {
                    code.replace(at, 1, "\\~");
                }
                out += "\\fB" + code + "\\fR";
                i = close + 1;
                continue;
            }
        }
        if (text[i] == '[') {
            auto mid = text.find("](", i);
            auto close = mid == std::string::npos ? mid : text.find(')', mid);
            if (close != std::string::npos && text.find('[', i + 1) > mid) {
                out += roff_inline(text.substr(i + 1, mid - i - 1));
                i = close + 1;
                continue;
            }
        }
        if (starts_with(text.substr(i), "git-") || starts_with(text.substr(i), "git(")) {
            auto end = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", i);
            if (end != std::string::npos && text.compare(end, 3, "(1)") == 0 &&
                (i == 0 || text[i - 1] == ' ')) {
                out += "\\fB" + roff_escape(text.substr(i, end - i)) + "\\fR(1)";
                i = end + 3;
                continue;
            }
        }
        auto next = text.find_first_of("`[g", i + 1);
        out +=
            roff_escape(text.substr(i, next == std::string::npos ? std::string::npos : next - i));
        i = next == std::string::npos ? text.size() : next;
    }
    return out;
}

/// One output line of filled text: a leading '.' or '\'' would be a request.
std::string roff_line(const std::string& text) {
    if (!text.empty() && (text.front() == '.' || text.front() == '\'')) {
        return "\\&" + text + "\n";
    }
    return text + "\n";
}

std::string roff_verbatim(const std::vector<std::string>& lines) {
    std::string out = ".PP\n.RS 4\n.nf\n";
    for (const auto& line : lines) {
        out += roff_line(roff_escape(line));
    }
    return out + ".fi\n.RE\n";
}

/// A section body (Markdown subset) as roff.
std::string roff_body(const std::string& path, const std::vector<Line>& body) {
    std::string out;
    std::string paragraph;  // pending filled text
    std::string item_kind;  // "", "bullet" or "term": the text goes under the last item
    auto flush = [&] {
        if (!paragraph.empty()) {
            if (item_kind.empty()) {
                out += ".PP\n";
            }
            out += paragraph;
            paragraph.clear();
        }
    };
    for (std::size_t i = 0; i < body.size(); ++i) {
        const std::string& text = body[i].text;
        const std::string stripped = trim(text);
        if (stripped.empty()) {
            flush();
            continue;
        }
        if (starts_with(stripped, "<!--")) {
            while (i < body.size() && body[i].text.find("-->") == std::string::npos) {
                ++i;
            }
            continue;
        }
        if (starts_with(text, "```")) {
            flush();
            item_kind.clear();
            out += roff_verbatim(fenced(path, body, i));
            continue;
        }
        if (starts_with(text, "### ")) {
            flush();
            item_kind.clear();
            out += ".SS \"" + roff_escape(text.substr(4)) + "\"\n";
            continue;
        }
        if (starts_with(text, "|") || starts_with(text, "#") || starts_with(text, "* ") ||
            starts_with(text, "1. ")) {
            fail(path, body[i].number, "unsupported Markdown for the man page (use '- ' lists)");
        }
        if (starts_with(text, "- ")) {
            flush();
            std::string item = text.substr(2);
            auto close = item.find("`:", 1);
            if (item.front() == '`' && close != std::string::npos) {
                item_kind = "term";
                out += ".TP\n" + roff_line(roff_inline(item.substr(0, close + 1)));
                item = trim(item.substr(close + 2));
            } else {
                item_kind = "bullet";
                out += ".IP \\(bu 2\n";
            }
            paragraph += roff_line(roff_inline(item));
            continue;
        }
        if (paragraph.empty()) {
            // A new paragraph: indented under a list item it continues the item, else it ends the
            // list.
            if (!item_kind.empty() && starts_with(text, "  ")) {
                out += ".IP \"\" " + std::string(item_kind == "term" ? "7" : "2") + "\n";
            } else {
                item_kind.clear();
            }
        }
        paragraph += roff_line(roff_inline(stripped));
    }
    flush();
    return out;
}

/// An option entry of the -h text: "    --from <stage>   description" plus continuation lines.
struct OptionEntry {
    std::string term;
    std::string description;
};

bool is_option_line(const std::string& line) {
    return starts_with(line, "    -");
}

/// The term ends at two spaces; failing that, after the last word that starts with '-' or '<'.
OptionEntry split_option(const std::string& line) {
    std::string text = trim(line);
    auto gap = text.find("  ");
    if (gap == std::string::npos) {
        std::size_t end = 0;
        std::size_t at = 0;
        while (at < text.size() && (text[at] == '-' || text[at] == '<')) {
            end = text.find(' ', at);
            if (end == std::string::npos) {
                end = text.size();
            }
            at = end + 1;
        }
        gap = end;
    }
    return {trim(text.substr(0, gap)), trim(gap < text.size() ? text.substr(gap) : "")};
}

std::string roff_option_term(const std::string& term) {
    std::string out;
    std::istringstream words(term);
    std::string word;
    while (words >> word) {
        if (!out.empty()) {
            out += " ";
        }
        out += (word.front() == '-' ? "\\fB" : "\\fI") + roff_escape(word) + "\\fR";
    }
    return out;
}

const Section* find_section(const Page& page, const std::string& title) {
    for (const auto& section : page.sections) {
        if (section.title == title) {
            return &section;
        }
    }
    return nullptr;
}

std::string upper(std::string text) {
    for (auto& c : text) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

/// `text` without a paragraph break right after a section heading (one is implied there).
std::string without_leading_paragraphs(const std::string& text) {
    std::string out;
    std::istringstream lines(text);
    bool after_heading = false;
    for (std::string line; std::getline(lines, line);) {
        if (!(after_heading && line == ".PP")) {
            out += line + "\n";
        }
        after_heading = starts_with(line, ".SH ") || starts_with(line, ".SS ");
    }
    return out;
}

std::string man_page(const Page& page, const std::string& version, const std::string& date,
                     const std::vector<Page>& commands) {
    std::string out =
        ".\\\" Generated by tools/docgen from docs/commands/" + page.name + ".md; do not edit.\n";
    out += ".TH \"" + roff_escape(upper(page.name)) + "\" \"1\" \"" + date + "\" \"git\\-dataops " +
           roff_escape(version) + "\" \"git\\-dataops manual\"\n";
    out += ".nh\n.ad l\n";  // as git's pages: no hyphenation, ragged right, so options stay whole
    out += ".SH \"NAME\"\n" + roff_escape(page.name) + " \\- " + roff_inline(page.summary) + "\n";

    // SYNOPSIS: the usage lines without "usage: " / "   or: ", continuation lines kept aligned.
    std::size_t i = 0;
    std::vector<std::string> synopsis;
    for (; i < page.usage.size() && !trim(page.usage[i]).empty(); ++i) {
        const std::string& line = page.usage[i];
        if (starts_with(line, "usage: ") || starts_with(line, "   or: ")) {
            synopsis.push_back(line.substr(7));
        } else if (starts_with(line, "       ")) {
            synopsis.push_back(line.substr(7));
        } else {
            fail(page.path, page.usage_line + static_cast<int>(i),
                 "a usage line starts with 'usage: ' or '   or: ', or continues the one above "
                 "indented");
        }
    }
    out += ".SH \"SYNOPSIS\"\n.nf\n";
    for (const auto& line : synopsis) {
        out += roff_line(roff_escape(line));
    }
    out += ".fi\n";

    // The rest of the -h text: description paragraphs and the option list.
    std::vector<Line> description;
    std::vector<OptionEntry> options;
    for (; i < page.usage.size(); ++i) {
        const std::string& line = page.usage[i];
        const int number = page.usage_line + static_cast<int>(i);
        if (is_option_line(line)) {
            options.push_back(split_option(line));
        } else if (!options.empty() && starts_with(line, "     ") && !trim(line).empty()) {
            options.back().description += " " + trim(line);
        } else if (!options.empty() && !trim(line).empty()) {
            fail(page.path, number, "text after the option list of the -h text");
        } else {
            description.push_back({number, line});
        }
    }
    out += ".SH \"DESCRIPTION\"\n" + roff_body(page.path, description);
    if (const auto* more = find_section(page, "DESCRIPTION")) {
        out += roff_body(page.path, more->body);
    }
    const auto* more_options = find_section(page, "OPTIONS");
    if (!options.empty() || more_options != nullptr) {
        out += ".SH \"OPTIONS\"\n";
        for (const auto& option : options) {
            out += ".TP\n" + roff_option_term(option.term) + "\n" +
                   roff_line(roff_inline(option.description));
        }
        if (more_options != nullptr) {
            out += roff_body(page.path, more_options->body);
        }
    }
    if (!commands.empty()) {
        out += ".SH \"COMMANDS\"\n";
        for (const auto& command : commands) {
            out += ".TP\n\\fB" + roff_escape(command.name) + "\\fR(1)\n" +
                   roff_line(roff_inline(command.summary));
        }
    }
    for (const auto& section : page.sections) {
        if (section.title == "DESCRIPTION" || section.title == "OPTIONS") {
            continue;
        }
        out += ".SH \"" + roff_escape(section.title) + "\"\n" + roff_body(page.path, section.body);
    }
    return without_leading_paragraphs(out);
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
        throw SourceError("error: cannot write '" + path + "'");
    }
}

int usage_error() {
    std::cerr << "usage: docgen header <page.md> <out.hpp>\n"
                 "   or: docgen man <version> <date> <page.md> <out.1> [<command page.md>...]\n";
    return 129;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 3 && args[0] == "header") {
            write_file(args[2], header(read_page(args[1])));
            return 0;
        }
        if (args.size() >= 5 && args[0] == "man") {
            std::vector<Page> commands;
            for (std::size_t k = 5; k < args.size(); ++k) {
                commands.push_back(read_page(args[k]));
            }
            write_file(args[4], man_page(read_page(args[3]), args[1], args[2], commands));
            return 0;
        }
        return usage_error();
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
}
