// `vantage schema list|show|import`: inspect the report-type catalogue and refresh it from
// Shadowserver's report_schema files.

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "commands.h"
#include "core/catalogue.h"
#include "core/catalogue_import.h"
#include "integrations/cef_map.h"

namespace vantage::cli {

namespace {

std::shared_ptr<const core::Catalogue> open_catalogue(const GlobalOptions& global) {
  auto cat = core::Catalogue::open(global.catalogue_path);
  if (!cat) {
    std::cerr << "vantage schema: " << cat.error().message << "\n";
    throw CommandFailed(2);
  }
  return *cat;
}

// Reads a whole input file; an empty path means "not given".
std::string read_input(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty()) {
    std::cerr << "vantage schema import: cannot read " << path << "\n";
    throw CommandFailed(2);
  }
  return text.str();
}

void print_list(const core::Catalogue& cat) {
  std::printf("%-40s %7s  %-8s  %s\n", "TYPE", "COLUMNS", "SEVERITY", "CONSTITUENT");
  for (const core::ReportType* t : cat.types()) {
    std::string constituent = core::constituent_kind_name(t->constituent_kind);
    if (!t->constituent_column.empty())
      constituent = t->constituent_column + " (" + constituent + ")";
    std::printf("%-40s %7zu  %-8s  %s\n", t->name.c_str(), t->columns.size(),
                core::severity_name(t->default_severity), constituent.c_str());
  }
}

void print_summary(const core::Catalogue& cat) {
  int by_severity[core::kSeverityCount] = {};
  std::map<std::string, int> by_kind, by_ip_column;
  size_t columns = 0;
  for (const core::ReportType* t : cat.types()) {
    ++by_severity[static_cast<int>(t->default_severity)];
    ++by_kind[core::constituent_kind_name(t->constituent_kind)];
    if (t->constituent_kind == core::ConstituentKind::kIp) ++by_ip_column[t->constituent_column];
    columns += t->columns.size();
  }
  std::cout << cat.size() << " report types (" << columns
            << " columns in all). By default severity:";
  for (int s = core::kSeverityCount - 1; s >= 0; --s) {
    std::cout << " " << by_severity[s] << " " << core::severity_name(static_cast<core::Severity>(s))
              << (s ? "," : ".");
  }
  std::cout << " By constituent:";
  bool first = true;
  for (const auto& [kind, n] : by_kind) {
    std::cout << (first ? " " : ", ") << n << " " << kind;
    first = false;
    if (kind == "ip") {
      std::cout << " (";
      bool f2 = true;
      for (const auto& [col, m] : by_ip_column) {
        std::cout << (f2 ? "" : ", ") << m << " " << col;
        f2 = false;
      }
      std::cout << ")";
    }
  }
  std::cout << ".\n";
}

void print_show(const core::Catalogue& cat, const std::string& name) {
  const core::ReportType* t = cat.find(name);
  if (!t) {
    std::cerr << "vantage schema show: unknown report type \"" << name << "\"\n";
    throw CommandFailed(1);
  }
  std::cout << t->name << " (id " << t->id << "): " << t->subject << "\n";
  if (!t->url.empty()) std::cout << "  documentation: " << t->url << "\n";
  std::cout << "  default severity: " << core::severity_name(t->default_severity) << " (from "
            << t->severity_source << ")\n";
  if (!t->taxonomy.empty() || !t->classification_type.empty()) {
    std::cout << "  classification: " << t->taxonomy << " / " << t->classification_type << "\n";
  }
  std::cout << "  constituent: " << core::constituent_kind_name(t->constituent_kind);
  if (!t->constituent_column.empty()) std::cout << " (column " << t->constituent_column << ")";
  std::cout << "\n  columns:\n";
  for (size_t i = 0; i < t->columns.size(); ++i) {
    std::printf("  %4zu  %-40s %s\n", i + 1, t->columns[i].name.c_str(),
                core::column_kind_name(t->columns[i].kind));
  }
}

struct ImportArgs {
  std::string reports, types, severity, intelmq;
  std::string output = "schemas/catalogue.json";
  bool dry_run = false;
};

void run_import(const GlobalOptions& global, const ImportArgs& args) {
  const std::string reports = read_input(args.reports);
  const std::string types = read_input(args.types);
  const std::string severity = read_input(args.severity);
  const std::string intelmq = read_input(args.intelmq);

  // Merge with the catalogue being replaced: the output file when it exists, otherwise the
  // one in use (--catalogue or the built-in one).
  std::shared_ptr<const core::Catalogue> existing;
  std::error_code ec;
  if (std::filesystem::exists(args.output, ec)) {
    auto loaded = core::Catalogue::load(args.output);
    if (!loaded) {
      std::cerr << "vantage schema import: " << loaded.error().message << "\n";
      throw CommandFailed(2);
    }
    existing = std::make_shared<core::Catalogue>(std::move(*loaded));
  } else {
    existing = open_catalogue(global);
  }

  auto outcome = core::import_catalogue({reports, types, severity, intelmq}, existing.get());
  if (!outcome) {
    std::cerr << "vantage schema import: " << outcome.error().message << "\n";
    throw CommandFailed(1);
  }
  for (const auto& line : outcome->changes) std::cout << line << "\n";
  std::cout << outcome->catalogue.size() << " types: " << outcome->added_types << " added, "
            << outcome->removed_types << " removed, " << outcome->changed_types << " changed\n";
  if (args.dry_run) return;
  const std::string tmp = args.output + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << outcome->catalogue.to_json();
    if (!out.flush()) {
      std::cerr << "vantage schema import: cannot write " << tmp << "\n";
      throw CommandFailed(2);
    }
  }
  std::filesystem::rename(tmp, args.output, ec);
  if (ec) {
    std::cerr << "vantage schema import: cannot replace " << args.output << ": " << ec.message()
              << "\n";
    throw CommandFailed(2);
  }
  std::cout << "wrote " << args.output << "\n";
}

void run_import_cef(const GlobalOptions& global, const std::string& input,
                    const std::string& output, const std::string& source) {
  std::ifstream in(input);
  if (!in) {
    std::cerr << "vantage schema import-cef: cannot read " << input << "\n";
    throw CommandFailed(2);
  }
  std::stringstream text;
  text << in.rdbuf();
  auto imported = integrations::import_cef_map(text.str(), *open_catalogue(global), source);
  if (!imported) {
    std::cerr << "vantage schema import-cef: " << imported.error().message << "\n";
    throw CommandFailed(2);
  }
  for (const auto& c : imported->corrections) std::cout << "~ " << c << "\n";
  std::ofstream(output) << imported->json;
  std::cout << "wrote " << output << " (" << imported->corrections.size() << " corrections)\n";
}

}  // namespace

void add_schema_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("schema", "Inspect or refresh the report-type catalogue");
  cmd->require_subcommand(1);

  auto* list = cmd->add_subcommand("list", "List every report type");
  auto summary = std::make_shared<bool>(false);
  list->add_flag("--summary", *summary, "One paragraph of counts instead of the table");
  list->callback([&global, summary] {
    auto cat = open_catalogue(global);
    if (*summary) {
      print_summary(*cat);
    } else {
      print_list(*cat);
    }
  });

  auto* show = cmd->add_subcommand("show", "Show one report type's columns in order");
  auto name = std::make_shared<std::string>();
  show->add_option("type", *name, "Report type, e.g. scan_http")->required();
  show->callback([&global, name] { print_show(*open_catalogue(global), *name); });

  auto* import = cmd->add_subcommand(
      "import", "Refresh the catalogue from Shadowserver's report_schema files and print changes");
  auto args = std::make_shared<ImportArgs>();
  import->add_option("reports", args->reports, "reports.json")->required();
  import->add_option("--types", args->types, "types.md (subjects)");
  import->add_option("--severity", args->severity, "severity.md (default severities)");
  import->add_option("--intelmq", args->intelmq, "intelmq.json (column kinds)");
  import->add_option("--output", args->output, "Catalogue file to merge with and write")
      ->capture_default_str();
  import->add_flag("--dry-run", args->dry_run, "Print the changes without writing");
  import->callback([&global, args] { run_import(global, *args);
});

// schemas/cef.json (the syslog integration's CEF field mapping) from report_schema/cef.json.
auto* cef = cmd->add_subcommand(
    "import-cef", "Derive schemas/cef.json from Shadowserver's report_schema/cef.json");
auto cef_args = std::make_shared<std::array<std::string, 3>>(
    std::array<std::string, 3>{"", "schemas/cef.json", "Shadowserver report_schema/cef.json"});
cef->add_option("cef", (*cef_args)[0], "report_schema/cef.json")->required();
cef->add_option("--output", (*cef_args)[1], "Where to write")->capture_default_str();
cef->add_option("--source", (*cef_args)[2], "Where the input came from (recorded in the output)")
    ->capture_default_str();
cef->callback([&global, cef_args] {
  run_import_cef(global, (*cef_args)[0], (*cef_args)[1], (*cef_args)[2]);
});
}  // namespace vantage::cli

}  // namespace vantage::cli
