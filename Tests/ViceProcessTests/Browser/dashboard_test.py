"""The dashboard in a real browser (headless Chromium through Selenium and Debian's chromedriver).

Usage: dashboard_test.py URL ADMIN_PASSWORD FILE [SCREENSHOT_DIR]
Signs in (a wrong password first), adds an in-memory environment, uploads FILE through the page
and waits for the image to become active, deploys it and watches the status change live,
searches, checks that another user sees none of it, signs out. Exits non-zero on the first
failed check, saying which. With SCREENSHOT_DIR, saves screenshots of the main pages there.
"""
import base64
import json
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

url, admin_password, upload_file = sys.argv[1], sys.argv[2], sys.argv[3]
shots = sys.argv[4] if len(sys.argv) > 4 else None


def api(method, path, body=None, user="admin", password=admin_password):
    request = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def browser(width=1280, height=900):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update"]:
        options.add_argument(argument)
    # Debian's chromedriver: nothing is downloaded.
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def check(condition, what):
    if not condition:
        print("FAILED:", what, file=sys.stderr)
        raise SystemExit(1)
    print("ok:", what)


def shot(driver, name):
    if shots:
        os.makedirs(shots, exist_ok=True)
        driver.save_screenshot(os.path.join(shots, name + ".png"))


def sign_in(driver, user, password):
    driver.get(url + "/ui/")
    wait = WebDriverWait(driver, 30)
    wait.until(EC.presence_of_element_located((By.ID, "f-username")))
    driver.find_element(By.ID, "f-username").send_keys(user)
    driver.find_element(By.ID, "f-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def text(driver):
    return driver.find_element(By.TAG_NAME, "main").text


driver = browser()
wait = WebDriverWait(driver, 60)
try:
    # A wrong password: an error, no session.
    sign_in(driver, "admin", "not the password")
    wait.until(EC.presence_of_element_located((By.ID, "login-error")))
    check("Wrong user name or password" in driver.find_element(By.ID, "login-error").text, "a wrong password shows an error")
    check(driver.get_cookie("vice_session") is None, "a wrong password makes no session")
    shot(driver, "sign-in")

    sign_in(driver, "admin", admin_password)
    wait.until(EC.url_contains("/ui/images"))
    cookie = driver.get_cookie("vice_session")
    check(cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", "the session cookie is HttpOnly and SameSite=Strict")

    # An in-memory environment, through the form.
    driver.get(url + "/ui/environments")
    driver.find_element(By.ID, "f-title").send_keys("Browser lab")
    Select(driver.find_element(By.ID, "f-managementlayer-software")).select_by_value("memory")
    driver.find_element(By.ID, "f-credentials-location").send_keys("browser-lab")
    driver.find_element(By.CSS_SELECTOR, "#environment-form button[type=submit]").click()
    wait.until(EC.url_matches(r"/ui/environments/[A-Za-z0-9]{20}$"))
    check("sample-raw" in text(driver), "the new environment lists what it offers")
    environment_id = driver.current_url.rsplit("/", 1)[-1]
    driver.find_element(By.CSS_SELECTOR, "button[data-health]").click()
    wait.until(lambda d: "healthy" in d.find_element(By.ID, "health-status").text)
    check(True, "its health is checked from the page")
    shot(driver, "environment")

    # Upload a file through the page; the image becomes active.
    driver.get(url + "/ui/images")
    driver.find_element(By.ID, "upload-title-field").send_keys("Browser upload")
    Select(driver.find_element(By.ID, "upload-type")).select_by_value("disk-raw")
    driver.find_element(By.ID, "upload-file").send_keys(upload_file)
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    wait.until(EC.url_matches(r"/ui/images/[A-Za-z0-9]{20}$"))
    image_id = driver.current_url.rsplit("/", 1)[-1]
    wait.until(lambda d: "active" in d.find_element(By.CSS_SELECTOR, f'[data-image-status="{image_id}"]').text)
    size = os.path.getsize(upload_file)
    record = api("GET", f"/v1/image/{image_id}")
    check(record["status"] == "active" and record["size"] == size, "the uploaded image is active with the file's size")
    check(record["checksum"] in text(driver), "the page shows its checksum")

    # Deploy it and watch the status change live.
    Select(driver.find_element(By.ID, "deploy-environment")).select_by_value(environment_id)
    driver.find_element(By.CSS_SELECTOR, "form[data-deploy] button[type=submit]").click()
    seen = set()
    def deployed(d):
        try:
            seen.add(d.find_element(By.ID, "deploy-status").text.split(" ")[0])
        except Exception:
            pass
        return any(s == "deployed" for s in seen)
    wait.until(deployed)
    check("deployed" in seen, "the deploy's status changes live to deployed (saw: %s)" % sorted(seen))
    wait.until(lambda d: "deployed" in d.find_element(By.TAG_NAME, "main").text and "mem-" in d.find_element(By.TAG_NAME, "main").text)
    check(True, "the image page lists the deployment")
    shot(driver, "image")

    # Search and filters.
    driver.get(url + "/ui/images?q=Browser")
    check("Browser upload" in text(driver), "a search finds the image")
    driver.get(url + "/ui/images?q=nothing-like-it")
    check("No images match." in text(driver), "a search that matches nothing says so")
    driver.get(url + "/ui/images?status=active&contenttype=disk-raw")
    check("Browser upload" in text(driver), "filters find it")
    driver.get(url + "/ui/images")
    shot(driver, "images")
    driver.get(url + "/ui/deployments")
    check("deployed" in text(driver), "the deployments page lists it")
    shot(driver, "deployments")
    driver.get(url + "/ui/jobs")
    check("succeeded" in text(driver), "the jobs page shows the finished jobs")
    shot(driver, "jobs")
    driver.get(url + "/ui/admin")
    check("Audit log" in text(driver) and "admin" in text(driver), "admins see users, queues and the audit log")
    shot(driver, "admin")

    # Sign out: the session is revoked, the pages ask to sign in again.
    session = driver.get_cookie("vice_session")["value"]
    driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    wait.until(EC.url_contains("/ui/login"))
    driver.get(url + "/ui/images")
    check("/ui/login" in driver.current_url, "after signing out the pages ask to sign in")
    request = urllib.request.Request(url + "/v1/user", headers={"Cookie": "vice_session=" + session})
    try:
        urllib.request.urlopen(request, timeout=10)
        check(False, "the signed-out session no longer works")
    except urllib.error.HTTPError as error:
        check(error.code == 401, "the signed-out session no longer works")
finally:
    driver.quit()

# Another user sees none of the first user's data.
api("POST", "/v1/user", {"username": "bob", "password": "bob-password-123", "fullname": "Bob"})
other = browser()
try:
    sign_in(other, "bob", "bob-password-123")
    WebDriverWait(other, 30).until(EC.url_contains("/ui/images"))
    check("Browser upload" not in text(other), "another user's image list shows none of the first user's images")
    other.get(url + "/ui/environments")
    check("Browser lab" not in text(other), "nor their environments")
    other.get(url + "/ui/deployments")
    check("mem-" not in text(other), "nor their deployments")
    other.get(url + f"/ui/images/{image_id}")
    check("not found" in text(other).lower(), "their image's page is not found for another user")
    other.get(url + "/ui/admin")
    check("only admins" in text(other), "the admin page is for admins")
    # A narrow screen.
    other.set_window_size(390, 844)
    other.get(url + "/ui/images")
    width = other.execute_script("return document.documentElement.scrollWidth")
    check(width <= 390, "the image list fits a narrow screen (scroll width %d)" % width)
finally:
    other.quit()

narrow = browser(390, 844)
try:
    sign_in(narrow, "admin", admin_password)
    WebDriverWait(narrow, 30).until(EC.url_contains("/ui/images"))
    shot(narrow, "images-narrow")
finally:
    narrow.quit()
print("dashboard: all checks passed")
