# frozen_string_literal: true

# rspec-puppet setup: the module is loaded from its own checkout (puppet/ is the module path), so
# no spec/fixtures/modules symlink is needed; rspec-puppet would otherwise create one with an
# absolute path.
require 'rspec-puppet'

RSpec.configure do |c|
  c.module_path = File.expand_path('../..', __dir__)
  c.setup_fixtures = false
  c.strict_variables = true
end
