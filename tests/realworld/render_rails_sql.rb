# Run a real gem's Rails migrations (acts-as-taggable-on, from Debian's ruby-acts-as-taggable-on) with
# ActiveRecord against an empty PostgreSQL database, one migration at a time, and print the SQL each one
# sent (transaction statements included) as JSON: "version_name" -> SQL. ARGV[0] is the connection as
# JSON: {"host", "port", "dbname", "user"} (host may be a unix socket directory).
require "json"
require "active_record"
require "acts-as-taggable-on"

target = JSON.parse(ARGV[0])
ActiveRecord::Base.establish_connection(
  adapter: "postgresql", host: target["host"], port: target["port"], database: target["dbname"],
  username: target["user"]
)
ActiveRecord::Migration.verbose = false
gem_dir = Gem::Specification.find_by_name("acts-as-taggable-on").gem_dir
context = ActiveRecord::MigrationContext.new(File.join(gem_dir, "db", "migrate"), ActiveRecord::SchemaMigration)

sent = []
ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
  # SCHEMA: ActiveRecord reading the catalog for itself, not part of the migration
  sent << payload[:sql] unless payload[:name] == "SCHEMA"
end

out = {}
context.migrations.each do |migration|
  sent.clear
  context.run(:up, migration.version)
  out["#{migration.version}_#{migration.name}"] = sent.map { |sql| sql.strip.sub(/;\z/, "") + ";" }.join("\n")
end
puts JSON.generate(out)
