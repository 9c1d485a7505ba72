# frozen_string_literal: true

# oi-voice's Ruby driver: runs code blocks in one persistent top-level binding.
#
# Usage: ruby ruby_driver.rb CONTROL_IN_FD STATUS_OUT_FD
# Each line on CONTROL_IN_FD is a JSON request {"code": "..."}; when the code is done,
# one JSON line {"status": "ok"|"error"|"interrupted", "message": ..., "exit_code": ...}
# is written to STATUS_OUT_FD. The code's own output goes to stdout/stderr untouched,
# so no marker ever mixes with it. Local variables, methods and constants persist
# because every block is evaluated in the same binding.

require 'json'

module OIVoiceDriver
  FILENAME = '<code>'
  @running = false

  class << self
    def running?
      @running
    end

    def main(control_fd, status_fd)
      control = IO.new(control_fd, 'r')
      status = IO.new(status_fd, 'w')
      status.sync = true
      $stdout.sync = true
      $stderr.sync = true
      reply(status, ready: true, version: RUBY_VERSION)
      while (line = control.gets)
        next if line.strip.empty?

        reply(status, run(JSON.parse(line)['code']))
      end
    end

    private

    def reply(io, message)
      io.write("#{JSON.generate(message)}\n")
    end

    def run(code)
      value = evaluate(code)
      $stdout.puts(value.inspect) unless value.nil?
      { status: 'ok' }
    rescue Interrupt
      { status: 'interrupted' }
    rescue SystemExit => e
      e.success? ? { status: 'ok' } : { status: 'error', message: "exit code #{e.status}", exit_code: e.status }
    rescue Exception => e # rubocop:disable Lint/RescueException -- report anything the code raises
      report(e)
      { status: 'error', message: "#{e.class}: #{e.message}" }
    ensure
      [STDOUT, STDERR].each do |io|
        io.flush
      rescue StandardError
        nil
      end
    end

    def evaluate(code)
      # SIGINT raises Interrupt only while the code runs (see the trap below).
      @running = true
      eval(code, TOPLEVEL_BINDING, FILENAME, 1) # rubocop:disable Security/Eval
    ensure
      @running = false
    end

    def report(error)
      # Keep the code's own frames; the driver's are noise.
      frames = (error.backtrace || []).select { |frame| frame.start_with?("#{FILENAME}:") }
      if frames.empty?
        $stderr.write("#{error.message} (#{error.class})\n")
      else
        error.set_backtrace(frames)
        $stderr.write(error.full_message(highlight: false, order: :top))
      end
    end
  end
end

# Between runs a SIGINT (a late interrupt) must not end the session.
trap('INT') { raise Interrupt if OIVoiceDriver.running? }

# No top-level locals here: they would show up in the code's binding.
OIVoiceDriver.main(*ARGV.shift(2).map(&:to_i))
